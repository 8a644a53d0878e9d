/**
 * Crash and soak (issue 5): a host killed or out of memory in the middle of a flood, with another
 * instance on another thread flowing on; and a short soak (the long one is `npm run soak`).
 */
import { execFile } from 'node:child_process';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createQQ, type QQ } from 'qq-socket-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { record } from './helpers/record.js';

let wss: WebSocketServer;
let url: string;

beforeAll(async () => {
  // /flood/<n>: n numbered text messages, paced by TCP; /echo echoes.
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  url = `ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}`;
  wss.on('connection', (ws, req) => {
    ws.on('error', () => {});
    const [, kind, count] = (req.url ?? '').split('/');
    if (kind === 'echo') ws.on('message', (d, b) => ws.send(d, { binary: b }));
    if (kind !== 'flood') return;
    const n = Number(count);
    let i = 0;
    const pump = () => {
      while (i < n && ws.readyState === ws.OPEN) {
        ws.send(`m${i++}`);
        if (ws.bufferedAmount > 256 * 1024) return void setTimeout(pump, 1);
      }
    };
    pump();
  });
});
afterAll(() => {
  for (const c of wss.clients) c.terminate();
  wss.close();
});

const debug = (qq: QQ) =>
  (qq as unknown as Record<symbol, { crash(how: string): void; threads(): number }>)[
    Symbol.for('qq-socket-worker.debug')
  ] as { crash(how: string): void; threads(): number };

describe('a host dying mid-flood', () => {
  it.each(['exit', 'oom'] as const)(
    'by %s: its tasks get onError + onClose(1006); an instance on another thread keeps every message',
    async (how) => {
      // Different `threads` settings use different pools, so the two hosts are on different threads.
      const victim = createQQ({ backend: 'thread', threads: 1 });
      const other = createQQ({ backend: 'thread', threads: 2 });
      try {
        const n = 200_000;
        const doomed = [1, 2].map(() => record(victim.connectSocket({ url: `${url}/flood/${n}` })));
        const steady = record(other.connectSocket({ url: `${url}/flood/${n}` }));
        await Promise.all([...doomed, steady].map((r) => r.messages(1000)));
        debug(victim).crash(how);
        for (const rec of doomed) {
          const events = await rec.closed;
          const tail = events.filter((e) => e.event !== 'message');
          expect(tail.slice(1)).toEqual([
            { event: 'error', errMsg: expect.stringMatching(/^socket host died: /) },
            { event: 'close', code: 1006, reason: 'abnormal closure' },
          ]);
          // What did arrive is a gapless prefix: nothing reordered.
          const got = events.flatMap((e) => (e.event === 'message' ? [e.data] : []));
          expect(got.every((m, i) => m === `m${i}`)).toBe(true);
        }
        const all = await steady.messages(n);
        expect(all.every((m, i) => m === `m${i}`)).toBe(true);
        // The victim's next connectSocket gets a fresh host.
        const next = victim.connectSocket({ url: `${url}/echo` });
        const rec = record(next);
        await rec.opened;
        next.send({ data: 'after the crash' });
        expect(await rec.messages(1)).toEqual(['after the crash']);
      } finally {
        await Promise.all([victim.destroy(), other.destroy()]);
      }
    },
  );
});

describe('soak (short; npm run soak runs 10,000 cycles and a 60 s flood)', () => {
  it.each(['thread', 'inline'])(
    '%s: heap, ArrayBuffers, handles, ports and threads return to baseline (RSS: npm run soak)',
    async (backend) => {
      const run = promisify(execFile);
      const root = fileURLToPath(new URL('..', import.meta.url));
      const { stdout } = await run(
        process.execPath,
        ['--expose-gc', 'scripts/soak.mjs', '--backend', backend, '--cycles', '400', '--flood', '2'],
        { cwd: root, timeout: 60_000 },
      ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }));
      const report = JSON.parse(stdout.trim().split('\n').at(-1) as string);
      expect(report.problems).toEqual([]);
      expect(report.flood.messages).toBeGreaterThan(1000);
      expect(report.destroyed.threads).toBe(0);
    },
    60_000,
  );
});
