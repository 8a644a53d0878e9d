// The host's frame writer (src/worker/frame-writer.ts) against ws's own receiver in server mode,
// over a real TCP connection: every frame must arrive masked, in order, with the exact bytes and
// type, whether frames share a write or not, across every length encoding and a mask-key pool
// refill. (End to end, the conformance suite sends through it to ws and python-websockets.)
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ws from 'ws';
import { FrameWriter, jsMask } from '../src/worker/frame-writer.js';

/** ws's receiver, in server mode: it requires every frame masked (@types/ws does not declare it). */
const { Receiver } = ws as unknown as {
  Receiver: new (options: {
    isServer: boolean;
    maxPayload: number;
  }) => NodeJS.WritableStream & {
    on(event: 'message', fn: (data: Buffer, isBinary: boolean) => void): void;
    on(event: 'error', fn: (error: Error) => void): void;
  };
};

/**
 * Lengths that straddle each header form (7-bit, 16-bit, 64-bit) and the writer's 64 KiB chunks;
 * one frame in 20 is one of the large ones.
 */
const SMALL = [0, 1, 2, 3, 4, 5, 125, 126, 127, 1000, 4096];
const LARGE = [65_521, 65_535, 65_536, 65_537, 200_000];

/** A deterministic PRNG (mulberry32), so a failure names a reproducible seed. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Message = { text: true; data: string } | { text: false; data: Uint8Array };

/** Message i: text (ASCII, 2-, 3- and 4-byte UTF-8) or binary given as a view into a larger buffer. */
function message(next: () => number, i: number): Message {
  const lengths = next() < 0.05 ? LARGE : SMALL;
  const length = lengths[Math.floor(next() * lengths.length)] as number;
  if (i % 2 === 0) {
    const units = ['a', 'é', '語', '😀'];
    const parts: string[] = [];
    for (let bytes = 0; bytes < length; ) {
      const unit = units[Math.floor(next() * units.length)] as string;
      parts.push(unit);
      bytes += Buffer.byteLength(unit);
    }
    return { text: true, data: parts.join('') };
  }
  const offset = Math.floor(next() * 7);
  const backing = new Uint8Array(offset + length + 3);
  const salt = Math.floor(next() * 256);
  for (let j = 0; j < backing.length; j++) backing[j] = (j * 31 + salt) & 0xff;
  return { text: false, data: backing.subarray(offset, offset + length) };
}

let server: net.Server;
let port: number;
/** What the server's receiver got per connection, in order. */
const received: Array<Array<{ text: boolean; data: Buffer }>> = [];
const errors: string[] = [];

beforeAll(async () => {
  server = net.createServer((socket) => {
    const got: Array<{ text: boolean; data: Buffer }> = [];
    received.push(got);
    const receiver = new Receiver({ isServer: true, maxPayload: 1 << 30 });
    receiver.on('message', (data: Buffer, isBinary: boolean) => got.push({ text: !isBinary, data }));
    receiver.on('error', (error: Error) => errors.push(error.message));
    socket.pipe(receiver);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('frame writer', () => {
  it.each([
    [1, 'bufferutil where it installed'],
    [2, 'bufferutil where it installed'],
    [3, 'the pure-JS mask'],
    [4, 'the pure-JS mask'],
  ])('writes masked frames that ws reads back exactly (seed %i, %s)', async (seed, how) => {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const writer = how === 'the pure-JS mask' ? new FrameWriter(socket, jsMask) : new FrameWriter(socket);
    const next = random(seed);
    const sent: Message[] = [];
    let done = 0;
    const failures: unknown[] = [];
    const onDone = (error?: Error | null) => {
      done++;
      if (error) failures.push(error);
    };
    // 3000 frames (the mask-key pool holds 2048), in tasks of 1 to 400 frames.
    while (sent.length < 3000) {
      const inTask = 1 + Math.floor(next() * 400);
      for (let k = 0; k < inTask && sent.length < 3000; k++) {
        const m = message(next, sent.length);
        sent.push(m);
        writer.add(m.data, onDone);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const got = received.at(-1) as Array<{ text: boolean; data: Buffer }>;
    await expect.poll(() => got.length).toBe(sent.length);
    expect(errors).toEqual([]);
    const wrong = sent.flatMap((m, i) => {
      const g = got[i] as { text: boolean; data: Buffer };
      const same = m.text ? g.text && g.data.toString('utf8') === m.data : !g.text && g.data.equals(m.data);
      return same ? [] : [i];
    });
    expect(wrong).toEqual([]);
    await expect.poll(() => done).toBe(sent.length); // every frame's callback, once
    expect(failures).toEqual([]);
    socket.destroy();
  });

  it('hands each callback the error of a write that failed', async () => {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const writer = new FrameWriter(socket);
    const outcomes: string[] = [];
    socket.destroy();
    for (let i = 0; i < 3; i++) writer.add('late', (error) => outcomes.push(error ? error.message : 'ok'));
    await expect.poll(() => outcomes.length).toBe(3);
    expect(new Set(outcomes)).toEqual(new Set(['Cannot call write after a stream was destroyed']));
  });
});
