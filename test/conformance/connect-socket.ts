/**
 * `qq.connectSocket`: its options and their refusals, the handshake, timeouts, bufferedAmount
 * and the connection limit (docs/semantics.md "qq.connectSocket(options) → SocketTask").
 */
import type { ConnectSocketOption, QQ, SocketTask } from 'qq-socket-worker';
import { describe, expect, it, vi } from 'vitest';
import { callbacks, expectEcho, record, settle, WAIT } from '../helpers/record.js';
import type { Context } from './context.js';

/** Types as the parameter errors name them, with a value of each. */
const TYPED_VALUES: Array<[string, unknown]> = [
  ['Undefined', undefined],
  ['Null', null],
  ['Number', 42],
  ['Boolean', true],
  ['Array', []],
  ['Function', () => {}],
  ['Symbol', Symbol('s')],
  ['BigInt', 10n],
];

export function connectSocketSuite(ctx: Context): void {
  const { backend, runtime, peers, browser, failed, makeQQ, open } = ctx;
  describe(`connectSocket (${backend})`, () => {
    it('returns the task synchronously and fires success in a later microtask, with the task set', async () => {
      const qq = makeQQ();
      const seen: Array<{ result: unknown; taskDefined: boolean }> = [];
      let task: SocketTask | undefined;
      let returned = false;
      task = qq.connectSocket({
        url: `${ctx.server.url}/echo`,
        success: (result) => seen.push({ result, taskDefined: task !== undefined && returned }),
        complete: (result) => seen.push({ result, taskDefined: task !== undefined }),
      });
      returned = true;
      expect(seen).toEqual([]);
      expect(task.readyState).toBe(0);
      await Promise.resolve();
      expect(seen).toEqual([
        { result: { errMsg: 'connectSocket:ok', socketTaskId: task.socketTaskId }, taskDefined: true },
        { result: { errMsg: 'connectSocket:ok', socketTaskId: task.socketTaskId }, taskDefined: true },
      ]);
      const rec = record(task);
      await rec.opened;
      expect(task.readyState).toBe(1);
      expect(task.url).toBe(`${ctx.server.url}/echo`);
    });

    /** A parameter error: fail + complete in a microtask, a CLOSED task, and nothing else ever. */
    const expectRefused = async (qq: QQ, option: unknown, errMsg: string) => {
      const cb = callbacks();
      const opts =
        typeof option === 'object' && option !== null && !Array.isArray(option) ? { ...option, ...cb } : option;
      const task = qq.connectSocket(opts as ConnectSocketOption);
      const rec = record(task);
      expect(task.readyState).toBe(3);
      if (opts !== option) {
        await cb.done;
        expect(cb.calls).toEqual([
          { kind: 'fail', result: { errMsg } },
          { kind: 'complete', result: { errMsg } },
        ]);
      }
      const send = callbacks();
      task.send({ data: 'x', ...send });
      const close = callbacks();
      task.close({ ...close });
      await Promise.all([send.done, close.done]);
      expect(send.calls[0]).toEqual({
        kind: 'fail',
        result: { errMsg: 'SocketTask.send:fail SocketTask.readyState is not OPEN' },
      });
      expect(close.calls[0]).toEqual({
        kind: 'fail',
        result: { errMsg: 'closeSocket:fail WebSocket is not connected' },
      });
      await settle();
      expect(rec.events).toEqual([]);
      return task;
    };

    it('refuses options that are not an object, naming the type', async () => {
      const qq = makeQQ();
      for (const [name, value] of [...TYPED_VALUES, ['String', 'ws://x']] as Array<[string, unknown]>) {
        await expectRefused(
          qq,
          value,
          `connectSocket:fail parameter error: parameter should be Object instead of ${name}`,
        );
      }
    });

    it('refuses a url that is not a string, naming the type', async () => {
      const qq = makeQQ();
      for (const [name, value] of [...TYPED_VALUES, ['Object', {}]] as Array<[string, unknown]>) {
        await expectRefused(
          qq,
          { url: value },
          `connectSocket:fail parameter error: parameter.url should be String instead of ${name}`,
        );
      }
    });

    it('refuses schemes other than ws and wss, and accepts them in any case', async () => {
      const qq = makeQQ();
      for (const url of ['test.php', 'http://127.0.0.1/', 'https://127.0.0.1/', '', 'ws//127.0.0.1', 'ftp://a']) {
        await expectRefused(qq, { url }, `connectSocket:fail invalid url "${url}"`);
      }
      const task = qq.connectSocket({ url: `${ctx.server.url.replace('ws://', 'WS://')}/echo` });
      await record(task).opened;
    });

    it('refuses a url with a fragment, even an empty one (RFC 6455 section 3)', async () => {
      const qq = makeQQ();
      for (const url of [`${ctx.server.url}/echo#part`, `${ctx.server.url}/echo#`, `${ctx.server.url}#`]) {
        await expectRefused(qq, { url }, `connectSocket:fail invalid url "${url}"`);
      }
      // A '#' escaped in the path or query is no fragment.
      const task = qq.connectSocket({ url: `${ctx.server.url}/echo?tag=%23a` });
      await record(task).opened;
    });

    it('with requireSecure refuses ws:// with the invalid url message and accepts wss://', async () => {
      const qq = makeQQ({ requireSecure: true, ...runtime.trust });
      await expectRefused(
        qq,
        { url: `${ctx.server.url}/echo` },
        `connectSocket:fail invalid url "${ctx.server.url}/echo"`,
      );
      await record(qq.connectSocket({ url: `${ctx.tlsServer.url}/echo` })).opened;
    });

    it('with allowedHosts accepts exact and *.suffix matches only', async () => {
      const qq = makeQQ({ allowedHosts: ['127.0.0.1', '*.allowed.test'] });
      await record(qq.connectSocket({ url: `${ctx.server.url}/echo` })).opened;
      const denied = 'connectSocket:fail url not in domain list';
      for (const url of [
        'wss://evil.test/',
        'wss://allowed.test/', // the suffix itself is not a subdomain
        'wss://allowed.test.evil.test/',
        'wss://allowed.test@evil.test/', // userinfo is not the host
        'wss://127.0.0.2/',
        'wss://[::1]/',
      ]) {
        await expectRefused(qq, { url }, denied);
      }
      // Case and a trailing dot do not change the host. (Checked with every slot taken, so that
      // a url that passes is refused for the limit instead of being looked up: loopback only.)
      const full = makeQQ({ allowedHosts: ['127.0.0.1', '*.allowed.test'], maxConnections: 1 });
      full.connectSocket({ url: `${ctx.server.url}/silent` });
      for (const url of ['wss://A.ALLOWED.TEST/', 'wss://a.allowed.test./']) {
        await expectRefused(full, { url }, 'connectSocket:fail exceed max concurrent count 1');
      }
    });

    it('refuses a Referer header in any case, and invalid header names or values without echoing the value', async () => {
      const qq = makeQQ();
      for (const name of ['Referer', 'referer', 'REFERER']) {
        await expectRefused(
          qq,
          { url: `${ctx.server.url}/echo`, header: { [name]: 'https://x' } },
          'connectSocket:fail header Referer is not allowed',
        );
      }
      for (const [name, value] of [
        ['x-token', 'secret\r\nInjected: yes'],
        ['x-token', 'secret\nx'],
        ['x-token', 'sec\0ret'],
        ['x-token', 'sécret'],
        ['bad name', 'v'],
        ['bad:name', 'v'],
        ['', 'v'],
      ]) {
        const task = await expectRefused(
          qq,
          { url: `${ctx.server.url}/echo`, header: { [name as string]: value } },
          `connectSocket:fail invalid header ${name}`,
        );
        expect(task.readyState).toBe(3);
      }
    });

    it('sends handshake headers, values stringified (browsers: ignored with one warning)', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const qq = makeQQ();
      const header = { 'x-token': 't0k', 'x-num': 42, 'Content-Type': 'a/b' };
      const { rec } = await open(qq, '/headers', { header });
      await open(qq, '/headers', { header });
      const [json] = await rec.messages(1);
      const headers = JSON.parse(json as string);
      if (browser) {
        expect(headers['x-token']).toBeUndefined();
        expect(warn.mock.calls).toEqual([
          ['qq-socket-worker: browsers cannot set handshake headers; header is ignored'],
        ]);
        return;
      }
      expect(headers['x-token']).toBe('t0k');
      expect(headers['x-num']).toBe('42');
      expect(headers['content-type']).toBe('a/b');
      expect(warn).not.toHaveBeenCalled();
    });

    it('negotiates a sub-protocol and exposes it as task.protocol', async () => {
      const qq = makeQQ();
      const { task } = await open(qq, '/echo', { protocols: ['v1', 'v2'] });
      expect(task.protocol).toBe('v1');
      expect(String((await ctx.server.lastHeaders())['sec-websocket-protocol']).split(/, ?/)).toEqual(['v1', 'v2']);
    });

    it('fails the handshake (error, then close 1006) when the server picks none of the protocols', async () => {
      const picky = await peers.start({ protocol: false });
      try {
        const qq = makeQQ();
        const url = `${picky.url}/echo`;
        const task = qq.connectSocket({ url, protocols: ['v1'] });
        const rec = record(task);
        // Firefox and WebKit open such a connection: the host fails it as Chromium does.
        expect(await rec.closed).toEqual([
          { event: 'error', errMsg: failed(url, 'Server sent no subprotocol') },
          { event: 'close', code: 1006, reason: 'abnormal closure' },
        ]);
      } finally {
        await picky.close();
      }
    });

    it('refuses an invalid protocols option', async () => {
      const qq = makeQQ();
      await expectRefused(
        qq,
        { url: `${ctx.server.url}/echo`, protocols: 'v1' },
        'connectSocket:fail parameter error: parameter.protocols should be Array instead of String',
      );
      await expectRefused(
        qq,
        { url: `${ctx.server.url}/echo`, protocols: ['a b'] },
        'connectSocket:fail invalid protocol "a b"',
      );
    });

    it('refuses wrongly typed tcpNoDelay, perMessageDeflate and timeout', async () => {
      const qq = makeQQ();
      const url = `${ctx.server.url}/echo`;
      await expectRefused(
        qq,
        { url, tcpNoDelay: 'yes' },
        'connectSocket:fail parameter error: parameter.tcpNoDelay should be Boolean instead of String',
      );
      await expectRefused(
        qq,
        { url, perMessageDeflate: 1 },
        'connectSocket:fail parameter error: parameter.perMessageDeflate should be Boolean instead of Number',
      );
      await expectRefused(
        qq,
        { url, timeout: '100' },
        'connectSocket:fail parameter error: parameter.timeout should be Number instead of String',
      );
      await expectRefused(
        qq,
        { url, timeout: -1 },
        'connectSocket:fail parameter error: parameter.timeout should be a Number >= 0 instead of -1',
      );
      await expectRefused(
        qq,
        { url, timeout: Number.NaN },
        'connectSocket:fail parameter error: parameter.timeout should be a Number >= 0 instead of NaN',
      );
    });

    it('opens and echoes with tcpNoDelay either way', async () => {
      const qq = makeQQ();
      for (const tcpNoDelay of [true, false]) {
        const { task, rec } = await open(qq, '/echo', { tcpNoDelay });
        expect(task.readyState).toBe(1);
        expect(rec.names()).toEqual(['open']);
        await expectEcho(task, rec, `tcpNoDelay ${tcpNoDelay}`);
      }
    });

    it('negotiates permessage-deflate only when asked (browsers: as the browser decides)', async () => {
      const qq = makeQQ();
      const offered = async () => String((await ctx.server.lastHeaders())['sec-websocket-extensions']);
      const off = await open(qq, '/echo');
      // Chromium offers the extension on every connection, and hides the response headers.
      if (browser) expect(await offered()).toContain('permessage-deflate');
      else expect(await offered()).toBe('undefined');
      expect(off.rec.events[0]).toMatchObject({ event: 'open' });
      const on = await open(qq, '/echo', { perMessageDeflate: true });
      expect(await offered()).toContain('permessage-deflate');
      if (!browser) {
        const { header } = on.rec.events[0] as { header: Record<string, string> };
        expect(header['sec-websocket-extensions']).toContain('permessage-deflate');
      }
      const text = 'compress me '.repeat(1000);
      on.task.send({ data: text });
      expect(await on.rec.messages(1)).toEqual([text]);
    });

    it('times out a handshake that is never answered: error, then close 1006', async () => {
      const qq = makeQQ();
      const task = qq.connectSocket({ url: `${ctx.server.url}/silent`, timeout: 200 });
      expect(await record(task).closed).toEqual([
        { event: 'error', errMsg: 'connectSocket:fail timeout' },
        { event: 'close', code: 1006, reason: 'abnormal closure' },
      ]);
      const slow = makeQQ({ connectTimeout: 150 });
      expect(
        (await record(slow.connectSocket({ url: `${ctx.server.url}/silent` })).closed).map((e) => e.event),
      ).toEqual(['error', 'close']);
    });

    it('takes a timeout of 0, or past what a timer holds (2^31 ms, Infinity), as none', async () => {
      // setTimeout fires such delays at once: each would time out before the late handshake.
      const qq = makeQQ({ connectTimeout: 2 ** 40 });
      const tasks = [0, 2 ** 31, Number.POSITIVE_INFINITY, undefined].map((timeout) =>
        record(qq.connectSocket({ url: `${ctx.server.url}/late/300/close/4000/done`, timeout })),
      );
      for (const rec of tasks) {
        const events = await rec.closed;
        expect(events.map((e) => e.event)).toEqual(['open', 'close']);
        expect(events[1]).toEqual({ event: 'close', code: 4000, reason: 'done' });
      }
    });

    it('counts in bufferedAmount what the socket has not written yet, until a stalled server reads it', async () => {
      const qq = makeQQ();
      const { task, rec } = await open(qq, '/stall');
      const chunk = new Uint8Array(1 << 20);
      let ok = 0;
      for (let i = 0; i < 48; i++) task.send({ data: chunk, success: () => ok++ });
      expect(task.bufferedAmount).toBe(48 << 20);
      // The server reads nothing until told: the kernel's buffers take a few MiB at most, and
      // whoever holds the rest (ws's queue, a browser's WebSocket) keeps it on this side, however
      // long the host has had to write.
      await settle(100);
      expect(task.bufferedAmount).toBeGreaterThan(16 << 20);
      await ctx.server.resumeReading();
      await vi.waitFor(() => expect(task.bufferedAmount).toBe(0), WAIT);
      expect(ok).toBe(48);
      task.send({ data: 'count' });
      expect(await rec.messages(1)).toEqual([`received ${48 << 20}`]);
    });

    it('allows maxConnections live tasks and frees a slot when one reaches CLOSED', async () => {
      const qq = makeQQ();
      const tasks = await Promise.all([1, 2, 3, 4, 5].map(() => open(qq)));
      await expectRefused(qq, { url: `${ctx.server.url}/echo` }, 'connectSocket:fail exceed max concurrent count 5');
      const first = tasks[0] as { task: SocketTask; rec: ReturnType<typeof record> };
      first.task.close();
      await first.rec.closed;
      await open(qq);
      const two = makeQQ({ maxConnections: 2 });
      await open(two);
      const pending = two.connectSocket({ url: `${ctx.server.url}/silent` }); // CONNECTING holds a slot too
      await expectRefused(two, { url: `${ctx.server.url}/echo` }, 'connectSocket:fail exceed max concurrent count 2');
      pending.close();
    });

    it('reports a refused connection as error then close 1006, never fail', async () => {
      const qq = makeQQ();
      const port = await peers.closedPort();
      const cb = callbacks();
      const url = `ws://127.0.0.1:${port}/`;
      const task = qq.connectSocket({ url, ...cb });
      expect(await record(task).closed).toEqual([
        { event: 'error', errMsg: failed(url, `connect ECONNREFUSED 127.0.0.1:${port}`) },
        { event: 'close', code: 1006, reason: 'abnormal closure' },
      ]);
      expect(cb.calls.map((c) => c.kind)).toEqual(['success', 'complete']);
    });

    it('reports a rejected handshake as error then close 1006', async () => {
      const qq = makeQQ();
      const url = `${ctx.server.url}/status/403`;
      const task = qq.connectSocket({ url });
      expect(await record(task).closed).toEqual([
        { event: 'error', errMsg: failed(url, 'Unexpected server response: 403') },
        { event: 'close', code: 1006, reason: 'abnormal closure' },
      ]);
    });
  });
}
