// The frame reader in front of ws's receiver must change nothing ws reports: the same messages,
// pings, pongs, closes and errors, in the same order, however the stream is cut into chunks.
// Each case runs a byte stream through a bare ws Receiver and through reader + Receiver.
import type { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import * as ws from 'ws';
import type { AsciiText } from '../src/shared/batch.js';
import { readInFront } from '../src/worker/frame-reader.js';
import { frame } from './helpers/raw-server.js';

const MAX_PAYLOAD = 80_000;

/** ws's receiver: exported by ws, though not by its type declarations. */
const { Receiver } = ws as unknown as {
  Receiver: new (options: { binaryType: 'nodebuffer'; isServer: boolean; maxPayload: number }) => Writable;
};

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)] as T };
}

const TEXT_PIECES = ['a', 'hello ', 'é', '中文', '😀', '\uFFFD', ' '];
/** Large text is handed on as its bytes when it is all ASCII, and U+FFFD sends text to ws. */
const PIECE_SETS = [TEXT_PIECES, ['a', 'hello ', ' ', '{"k":1}'], ['a', 'é', '中文', '😀']];

function randomText(r: ReturnType<typeof prng>, max: number): string {
  const pieces = r.pick(PIECE_SETS);
  let s = '';
  const n = r.int(max);
  while (s.length < n) s += r.pick(pieces);
  return s;
}

function randomBytes(r: ReturnType<typeof prng>): Buffer {
  const size = r.next() < 0.2 ? r.pick([0, 1, 125, 126, 127, 65_535, 65_536, 70_000]) : r.int(3000);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + size) & 0xff;
  return out;
}

/** Frames that end the stream's normal part: ws closes or fails the connection on each. */
const ENDINGS: Array<(r: ReturnType<typeof prng>) => Buffer[]> = [
  () => [frame(0x8, Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65]))],
  () => [frame(0x8, Buffer.alloc(0))],
  () => [frame(0x1, Buffer.from([0x61, 0xff, 0x62]))],
  () => [frame(0x1, Buffer.from([0xed, 0xa0, 0x80]))],
  () => [frame(0x2, Buffer.from('masked'), { mask: true })],
  () => [frame(0x2, Buffer.from('rsv1'), { rsv: 4 })],
  () => [frame(0x3, Buffer.from('reserved'))],
  () => [frame(0x0, Buffer.from('orphan continuation'))],
  () => [frame(0x9, Buffer.alloc(126))],
  () => [frame(0x9, Buffer.from('fragmented ping'), { fin: false })],
  () => [frame(0x2, Buffer.alloc(MAX_PAYLOAD + 1))],
  () => [frame(0x8, Buffer.from([0x03, 0xed]))],
  () => [frame(0x1, Buffer.from('a'), { fin: false }), frame(0x2, Buffer.from('b'))],
  // A two-byte character cut between fragments is valid; a bad byte in the last fragment is not.
  (r) => [
    frame(0x1, Buffer.from([0xc3]), { fin: false }),
    frame(0x0, r.next() < 0.5 ? Buffer.from([0xa9]) : Buffer.from([0xa9, 0xff])),
    frame(0x8, Buffer.from([0x03, 0xe8])),
  ],
];

/** A random stream: plain messages, fragmented ones with control frames between, pings, pongs. */
function randomStream(seed: number): Buffer {
  const r = prng(seed);
  const frames: Buffer[] = [];
  const count = 5 + r.int(60);
  for (let i = 0; i < count; i++) {
    const kind = r.next();
    if (kind < 0.4) frames.push(frame(0x1, Buffer.from(randomText(r, r.next() < 0.05 ? 40_000 : 200))));
    else if (kind < 0.75) frames.push(frame(0x2, randomBytes(r)));
    else if (kind < 0.85) frames.push(frame(r.pick([0x9, 0xa]), Buffer.from(randomText(r, 20))));
    else {
      const text = r.next() < 0.5;
      const whole = text ? Buffer.from(randomText(r, 300)) : randomBytes(r);
      const parts = 1 + r.int(4);
      for (let p = 0; p < parts; p++) {
        const piece = whole.subarray(
          Math.floor((p * whole.length) / parts),
          Math.floor(((p + 1) * whole.length) / parts),
        );
        frames.push(frame(p === 0 ? (text ? 0x1 : 0x2) : 0x0, piece, { fin: p === parts - 1 }));
        if (r.next() < 0.3) frames.push(frame(0x9, Buffer.from('between')));
      }
    }
  }
  if (r.next() < 0.6) frames.push(...r.pick(ENDINGS)(r));
  // What follows a close or a failure must never be reported.
  frames.push(frame(0x1, Buffer.from('after the end')));
  return Buffer.concat(frames);
}

/** Cuts a stream into chunks of random sizes: often tiny (cut headers), sometimes whole frames. */
function chunks(stream: Buffer, seed: number): Buffer[] {
  const r = prng(seed ^ 0x5eed);
  const out: Buffer[] = [];
  for (let at = 0; at < stream.length; ) {
    const size = r.next() < 0.3 ? 1 + r.int(12) : r.next() < 0.5 ? 1 + r.int(600) : 1 + r.int(200_000);
    out.push(Buffer.from(stream.subarray(at, at + size)));
    at += size;
  }
  return out;
}

type Event = unknown[];
/** A message as the user will see it: ASCII bytes of text become the text (as batch.ts reads them). */
const describeMessage = (data: string | Uint8Array | AsciiText<Uint8Array>): Event =>
  typeof data === 'string'
    ? ['text', data]
    : data instanceof Uint8Array
      ? ['binary', Buffer.from(data).toString('hex')]
      : ['text', Buffer.from(data.ascii).toString('latin1')];

/** Runs chunks through a receiver (with the reader in front, or not); returns what it reported. */
async function run(
  input: Buffer[],
  withReader: boolean,
  /** How each large text the reader took was handed on. */
  large: unknown[] = [],
): Promise<{ events: Event[]; taken: number }> {
  const events: Event[] = [];
  const receiver = new Receiver({ binaryType: 'nodebuffer', isServer: false, maxPayload: MAX_PAYLOAD });
  receiver.on('message', (data: Buffer, isBinary: boolean) =>
    events.push(describeMessage(isBinary ? data : data.toString('utf8'))),
  );
  receiver.on('ping', (data: Buffer) => events.push(['ping', data.toString()]));
  receiver.on('pong', (data: Buffer) => events.push(['pong', data.toString()]));
  receiver.on('conclude', (code: number, reason: Buffer) => events.push(['conclude', code, reason.toString()]));
  receiver.on('error', (error: Error & { code?: string }) => events.push(['error', error.message, error.code]));
  const reader = withReader
    ? readInFront(receiver, MAX_PAYLOAD, (data) => {
        if (typeof data === 'string' ? data.length >= 16_384 : !(data instanceof Uint8Array))
          large.push(typeof data === 'string' ? 'string' : 'ascii');
        events.push(describeMessage(data));
      })
    : undefined;
  for (const chunk of input) {
    // ws stops feeding its receiver once it failed or concluded (it drops its 'data' listener).
    if (receiver.errored !== null || receiver.writableEnded || receiver.destroyed) break;
    // Each chunk is its own copy (chunks()): the reader hands out views of it, as of a socket's.
    receiver.write(chunk);
  }
  await new Promise((resolve) => setImmediate(resolve));
  return { events, taken: reader?.taken ?? 0 };
}

describe('the frame reader in front of ws', () => {
  it('reads plain frames itself and leaves the rest to ws', async () => {
    const input = Buffer.concat([
      frame(0x1, Buffer.from('one')),
      frame(0x2, Buffer.from([1, 2, 3])),
      frame(0x9, Buffer.from('ping')),
      frame(0x1, Buffer.from('\uFFFD is fine')),
      frame(0x1, Buffer.alloc(200, 0x61)),
      frame(0x1, Buffer.alloc(20_000, 0x62)),
      frame(0x1, Buffer.from(`${'c'.repeat(20_000)}é`)),
    ]);
    const large: unknown[] = [];
    const { events, taken } = await run([input], true, large);
    expect(events).toEqual([
      ['text', 'one'],
      ['binary', '010203'],
      ['ping', 'ping'],
      ['text', '\uFFFD is fine'],
      ['text', 'a'.repeat(200)],
      ['text', 'b'.repeat(20_000)],
      ['text', `${'c'.repeat(20_000)}é`],
    ]);
    // The ping, and the text with U+FFFD (which ws must check), went to ws.
    expect(taken).toBe(5);
    // Large text crosses as its bytes only when all of it is ASCII; the rest is decoded here.
    expect(large).toEqual(['ascii', 'string']);
  });

  it('reports exactly what ws alone reports, over 400 random streams cut at random', async () => {
    let taken = 0;
    let messages = 0;
    const large: unknown[] = [];
    for (let seed = 1; seed <= 400; seed++) {
      const stream = randomStream(seed);
      const input = chunks(stream, seed);
      const alone = await run(input, false);
      const fronted = await run(input, true, large);
      expect({ seed, events: fronted.events }).toEqual({ seed, events: alone.events });
      taken += fronted.taken;
      messages += alone.events.filter((e) => e[0] === 'text' || e[0] === 'binary').length;
    }
    // The comparison means something only if the reader took a good share of the messages,
    // large text of both kinds among them.
    expect(taken).toBeGreaterThan(messages / 4);
    expect(large).toContain('ascii');
    expect(large).toContain('string');
  });

  it('passes ws every byte once a close frame came, and stays out of the way', async () => {
    const input = Buffer.concat([
      frame(0x2, Buffer.from([9])),
      frame(0x8, Buffer.from([0x03, 0xe8])),
      frame(0x2, Buffer.from([10])),
    ]);
    const receiver = new Receiver({ binaryType: 'nodebuffer', isServer: false, maxPayload: MAX_PAYLOAD });
    const events: Event[] = [];
    receiver.on('conclude', (code: number) => events.push(['conclude', code]));
    const reader = readInFront(receiver, MAX_PAYLOAD, (data) => events.push(describeMessage(data)));
    receiver.write(input);
    expect(events).toEqual([
      ['binary', '09'],
      ['conclude', 1000],
    ]);
    expect(reader?.off).toBe(true);
  });
});
