/**
 * Other peers than the suite's ws server: python3-websockets, wss with a trusted and an untrusted
 * certificate; and the instance options that concern how a host reaches them.
 */
import { describe, expect, it, vi } from 'vitest';
import { record } from '../helpers/record.js';
import { bytes, type Context, same } from './context.js';

export function peersSuite(ctx: Context): void {
  const { backend, runtime, peers, browser, makeQQ } = ctx;
  describe(`peers (${backend})`, () => {
    it('talks to python3-websockets: text, binary, and its close code', async () => {
      const qq = makeQQ();
      const task = qq.connectSocket({ url: `${ctx.python.url}/echo` });
      const rec = record(task);
      await rec.opened;
      task.send({ data: 'héllo 世界' });
      task.send({ data: bytes(70_000).buffer });
      task.send({ data: new ArrayBuffer(0) });
      const [text, big, empty] = await rec.messages(3);
      expect(text).toBe('héllo 世界');
      expect(same(big as ArrayBuffer, bytes(70_000))).toBe(true);
      expect((empty as ArrayBuffer).byteLength).toBe(0);
      task.close({ code: 4100, reason: 'py' });
      expect((await rec.closed).at(-1)).toEqual({ event: 'close', code: 4100, reason: 'py' });
      const closing = record(qq.connectSocket({ url: `${ctx.python.url}/close/4200/from%20python` }));
      expect((await closing.closed).at(-1)).toEqual({ event: 'close', code: 4200, reason: 'from python' });
    });

    it('takes a mixed stream from python3-websockets: fragments and pings between messages, in order', async () => {
      // Another implementation's framing and chunking; see py_server.py for the stream.
      const n = 400;
      const want = (i: number): string | Uint8Array => {
        switch (i % 4) {
          case 0:
            return `m${i}:${'é'.repeat(i % 50)}`;
          case 1:
            return Uint8Array.from({ length: (i * 37) % 3000 }, (_, j) => (i + j) & 0xff);
          case 2:
            return `f${i}a-${i}bé`;
          default:
            return new Uint8Array(i % 200).fill(i & 0xff);
        }
      };
      const qq = makeQQ();
      const rec = record(qq.connectSocket({ url: `${ctx.python.url}/mixed/${n}` }));
      const got = await rec.messages(n);
      const wrong = got.flatMap((m, i) => {
        const w = want(i);
        return (typeof w === 'string' ? m === w : m instanceof ArrayBuffer && same(m, w)) ? [] : [i];
      });
      expect(wrong).toEqual([]);
      expect((await rec.closed).at(-1)).toEqual({ event: 'close', code: 1000, reason: 'mixed done' });
    });

    it('connects to wss when tls.ca (browsers: the browser) trusts the certificate', async () => {
      const qq = makeQQ(runtime.trust);
      const task = qq.connectSocket({ url: `${ctx.tlsServer.url}/echo` });
      const rec = record(task);
      await rec.opened;
      task.send({ data: 'secure' });
      expect(await rec.messages(1)).toEqual(['secure']);
    });

    it('takes tls, threads, proxy, noProxy and workerUrl options (ignored where they mean nothing, with one warning each)', () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      makeQQ({ tls: { rejectUnauthorized: true } });
      makeQQ({ threads: 2 });
      makeQQ({ proxy: 'http://127.0.0.1:3128', noProxy: 'localhost,127.0.0.0/8,::1' });
      makeQQ({ workerUrl: 'assets/worker.js' });
      const cdn = new URL('https://cdn.test/worker.js');
      if (browser) makeQQ({ workerUrl: cdn });
      else {
        // Node runs its host from a file: the bundled app's copy of node-thread.js.
        expect(() => makeQQ({ workerUrl: cdn })).toThrow(
          new TypeError('createQQ: options.workerUrl must be a file: URL or a path (of node-thread.js)'),
        );
      }
      expect(warn.mock.calls).toEqual(
        browser
          ? [
              ['qq-socket-worker: browsers decide certificate trust themselves; tls is ignored'],
              ["qq-socket-worker: browsers run an instance's sockets in one worker; threads is ignored"],
              ['qq-socket-worker: browsers use their own proxy settings; proxy is ignored'],
              ['qq-socket-worker: browsers use their own proxy settings; noProxy is ignored'],
            ]
          : [],
      );
    });

    it.skipIf(runtime.untrustedCertificate === undefined)(
      'refuses a self-signed wss server by default: error, then close 1006',
      async () => {
        const untrusted = await peers.start({ tls: 'untrusted' });
        try {
          const qq = makeQQ();
          const url = `${untrusted.url}/echo`;
          const task = qq.connectSocket({ url });
          expect(await record(task).closed).toEqual([
            { event: 'error', errMsg: await runtime.untrustedCertificate?.() },
            { event: 'close', code: 1006, reason: 'abnormal closure' },
          ]);
        } finally {
          await untrusted.close();
        }
      },
    );
  });
}
