/**
 * The conformance suite: every rule of docs/semantics.md, over real servers on 127.0.0.1.
 * Run against each backend by the *.test.ts files beside it: in Node (`inline`, `thread`) and in
 * Chromium (`worker`, `shared`, `inline`, the *.browser.test.ts files). `qq-socket-worker` is the
 * build the runtime gets (vitest.config.ts), and the peers are reached through {@link Peers}.
 * Where a browser cannot do what Node does, the test says what the browser does instead, and
 * docs/semantics.md "Browsers" lists it.
 */
import { type Backend, createQQ, type QQ, type QQOptions, type SocketTask } from 'qq-socket-worker';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PeerServer, Runtime } from './helpers/peers.js';
import { callbacks, expectEcho, type Recorded, record, settle, WAIT } from './helpers/record.js';

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

const bytes = (n: number) => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = i & 0xff;
  return out;
};
const same = (a: ArrayBuffer | string, b: Uint8Array) => {
  if (typeof a === 'string' || a.byteLength !== b.byteLength) return false;
  const view = new Uint8Array(a);
  return view.every((x, i) => x === b[i]);
};

export function conformance(backend: Backend, runtime: Runtime): void {
  const { peers } = runtime;
  const browser = runtime.name === 'browser';
  /** Browsers do not say why a connection failed, only that it did (docs/semantics.md "Browsers"). */
  const failed = (url: string, nodeReason: string) =>
    browser ? `WebSocket connection to '${url}' failed` : nodeReason;
  let server: PeerServer;
  let tlsServer: PeerServer;
  let python: { url: string; close(): Promise<void> };
  const instances: QQ[] = [];
  /** A fresh qq instance, destroyed after the test. */
  const makeQQ = (options: QQOptions = {}) => {
    const qq = createQQ({ backend, ...options });
    instances.push(qq);
    return qq;
  };
  /** Connects and waits for open. */
  const open = async (qq: QQ, path = '/echo', extra: object = {}) => {
    const task = qq.connectSocket({ url: `${server.url}${path}`, ...extra });
    const rec = record(task);
    await rec.opened;
    return { task, rec };
  };

  beforeAll(async () => {
    [server, tlsServer, python] = await Promise.all([peers.start(), peers.start({ tls: true }), peers.python()]);
  });
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((qq) => qq.destroy()));
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await Promise.all([server.close(), tlsServer.close(), python.close()]);
  });

  describe(`connectSocket (${backend})`, () => {
    it('returns the task synchronously and fires success in a later microtask, with the task set', async () => {
      const qq = makeQQ();
      const seen: Array<{ result: unknown; taskDefined: boolean }> = [];
      let task: SocketTask | undefined;
      let returned = false;
      task = qq.connectSocket({
        url: `${server.url}/echo`,
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
      expect(task.url).toBe(`${server.url}/echo`);
    });

    /** A parameter error: fail + complete in a microtask, a CLOSED task, and nothing else ever. */
    const expectRefused = async (qq: QQ, option: unknown, errMsg: string) => {
      const cb = callbacks();
      const opts =
        typeof option === 'object' && option !== null && !Array.isArray(option) ? { ...option, ...cb } : option;
      const task = qq.connectSocket(opts as never);
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
      const task = qq.connectSocket({ url: `${server.url.replace('ws://', 'WS://')}/echo` });
      await record(task).opened;
    });

    it('refuses a url with a fragment, even an empty one (RFC 6455 section 3)', async () => {
      const qq = makeQQ();
      for (const url of [`${server.url}/echo#part`, `${server.url}/echo#`, `${server.url}#`]) {
        await expectRefused(qq, { url }, `connectSocket:fail invalid url "${url}"`);
      }
      // A '#' escaped in the path or query is no fragment.
      const task = qq.connectSocket({ url: `${server.url}/echo?tag=%23a` });
      await record(task).opened;
    });

    it('with requireSecure refuses ws:// with the invalid url message and accepts wss://', async () => {
      const qq = makeQQ({ requireSecure: true, ...runtime.trust });
      await expectRefused(qq, { url: `${server.url}/echo` }, `connectSocket:fail invalid url "${server.url}/echo"`);
      await record(qq.connectSocket({ url: `${tlsServer.url}/echo` })).opened;
    });

    it('with allowedHosts accepts exact and *.suffix matches only', async () => {
      const qq = makeQQ({ allowedHosts: ['127.0.0.1', '*.allowed.test'] });
      await record(qq.connectSocket({ url: `${server.url}/echo` })).opened;
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
      full.connectSocket({ url: `${server.url}/silent` });
      for (const url of ['wss://A.ALLOWED.TEST/', 'wss://a.allowed.test./']) {
        await expectRefused(full, { url }, 'connectSocket:fail exceed max concurrent count 1');
      }
    });

    it('refuses a Referer header in any case, and invalid header names or values without echoing the value', async () => {
      const qq = makeQQ();
      for (const name of ['Referer', 'referer', 'REFERER']) {
        await expectRefused(
          qq,
          { url: `${server.url}/echo`, header: { [name]: 'https://x' } },
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
          { url: `${server.url}/echo`, header: { [name as string]: value } },
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
      expect(String((await server.lastHeaders())['sec-websocket-protocol']).split(/, ?/)).toEqual(['v1', 'v2']);
    });

    it('fails the handshake (error, then close 1006) when the server picks none of the protocols', async () => {
      const picky = await peers.start({ protocol: false });
      try {
        const qq = makeQQ();
        const url = `${picky.url}/echo`;
        const task = qq.connectSocket({ url, protocols: ['v1'] });
        const events = await record(task).closed;
        expect(events).toEqual([
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
        { url: `${server.url}/echo`, protocols: 'v1' },
        'connectSocket:fail parameter error: parameter.protocols should be Array instead of String',
      );
      await expectRefused(
        qq,
        { url: `${server.url}/echo`, protocols: ['a b'] },
        'connectSocket:fail invalid protocol "a b"',
      );
    });

    it('refuses wrongly typed tcpNoDelay, perMessageDeflate and timeout', async () => {
      const qq = makeQQ();
      const url = `${server.url}/echo`;
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
      const offered = async () => String((await server.lastHeaders())['sec-websocket-extensions']);
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
      const task = qq.connectSocket({ url: `${server.url}/silent`, timeout: 200 });
      expect(await record(task).closed).toEqual([
        { event: 'error', errMsg: 'connectSocket:fail timeout' },
        { event: 'close', code: 1006, reason: 'abnormal closure' },
      ]);
      const slow = makeQQ({ connectTimeout: 150 });
      expect((await record(slow.connectSocket({ url: `${server.url}/silent` })).closed).map((e) => e.event)).toEqual([
        'error',
        'close',
      ]);
    });

    it('takes a timeout of 0, or past what a timer holds (2^31 ms, Infinity), as none', async () => {
      // setTimeout fires such delays at once: each would time out before the late handshake.
      const qq = makeQQ({ connectTimeout: 2 ** 40 });
      const tasks = [0, 2 ** 31, Number.POSITIVE_INFINITY, undefined].map((timeout) =>
        record(qq.connectSocket({ url: `${server.url}/late/300/close/4000/done`, timeout })),
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
      await server.resumeReading();
      await vi.waitFor(() => expect(task.bufferedAmount).toBe(0), WAIT);
      expect(ok).toBe(48);
      task.send({ data: 'count' });
      expect(await rec.messages(1)).toEqual([`received ${48 << 20}`]);
    });

    it('allows maxConnections live tasks and frees a slot when one reaches CLOSED', async () => {
      const qq = makeQQ();
      const tasks = await Promise.all([1, 2, 3, 4, 5].map(() => open(qq)));
      await expectRefused(qq, { url: `${server.url}/echo` }, 'connectSocket:fail exceed max concurrent count 5');
      const first = tasks[0] as { task: SocketTask; rec: ReturnType<typeof record> };
      first.task.close();
      await first.rec.closed;
      await open(qq);
      const two = makeQQ({ maxConnections: 2 });
      await open(two);
      const pending = two.connectSocket({ url: `${server.url}/silent` }); // CONNECTING holds a slot too
      await expectRefused(two, { url: `${server.url}/echo` }, 'connectSocket:fail exceed max concurrent count 2');
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
      const url = `${server.url}/status/403`;
      const task = qq.connectSocket({ url });
      expect(await record(task).closed).toEqual([
        { event: 'error', errMsg: failed(url, 'Unexpected server response: 403') },
        { event: 'close', code: 1006, reason: 'abnormal closure' },
      ]);
    });
  });

  describe(`SocketTask (${backend})`, () => {
    it('gives onOpen the real response headers (browsers: {}) and a profile', async () => {
      const qq = makeQQ();
      const { rec } = await open(qq);
      const opened = rec.events[0] as Extract<Recorded, { event: 'open' }>;
      if (browser) {
        expect(opened.header).toEqual({});
      } else {
        expect(opened.header['x-test-server']).toBe('qq');
        expect(opened.header.upgrade).toBe('websocket');
      }
      const { connectStart, connectEnd, handshakeCost, cost } = opened.profile as Record<string, number>;
      for (const v of [connectStart, connectEnd, handshakeCost, cost]) expect(Number.isFinite(v)).toBe(true);
      expect(connectStart).toBeGreaterThan(0);
      expect(connectEnd).toBeGreaterThanOrEqual(connectStart as number);
      expect(handshakeCost).toBeGreaterThanOrEqual(0);
      expect(cost).toBeGreaterThanOrEqual(handshakeCost as number);
      expect(connectStart).toBeLessThanOrEqual(performance.now());
    });

    it('accumulates listeners, adds the same function once, and removes with offX', async () => {
      const qq = makeQQ();
      const task = qq.connectSocket({ url: `${server.url}/echo` });
      const calls: string[] = [];
      const a = () => calls.push('a');
      const b = () => calls.push('b');
      const c = () => calls.push('c');
      task.onOpen(a);
      task.onOpen(a);
      task.onOpen(b);
      task.onOpen(c);
      task.offOpen(c);
      const rec = record(task);
      await rec.opened;
      expect(calls).toEqual(['a', 'b']);
      const m: string[] = [];
      const onM = () => m.push('m');
      task.onMessage(onM);
      task.send({ data: '1' });
      await rec.messages(1);
      task.offMessage(onM);
      task.send({ data: '2' });
      await rec.messages(2);
      expect(m).toEqual(['m']);
    });

    it('keeps going when a listener throws, and reports it with console.error', async () => {
      const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
      const qq = makeQQ();
      const task = qq.connectSocket({ url: `${server.url}/echo` });
      task.onOpen(() => {
        throw new Error('boom');
      });
      await record(task).opened;
      expect(errors).toHaveBeenCalled();
    });

    it('logs a call refused at once when it gave no callback to hear it, and nothing else', async () => {
      const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
      const qq = makeQQ({ maxConnections: 1 });
      const { task } = await open(qq);
      task.send('hello' as never); // the browser WebSocket's style
      task.send({ data: 42 as never });
      task.close({ code: 1001 });
      qq.connectSocket({ url: 'http://127.0.0.1/' });
      qq.connectSocket({ url: `${server.url}/echo` }); // one too many
      const heard = callbacks();
      task.send({ data: 5 as never, ...heard });
      await heard.done;
      await settle();
      expect(errors.mock.calls).toEqual([
        ['qq-socket-worker: sendSocketMessage:fail parameter error: parameter should be Object instead of String'],
        ['qq-socket-worker: sendSocketMessage:fail data must be string or ArrayBuffer'],
        ['qq-socket-worker: closeSocket:fail invalid code'],
        ['qq-socket-worker: connectSocket:fail invalid url "http://127.0.0.1/"'],
        ['qq-socket-worker: connectSocket:fail exceed max concurrent count 1'],
      ]);
      // Accepted sends that fail with the close are told by onClose, not logged one by one.
      const rec = record(task);
      for (let i = 0; i < 100; i++) task.send({ data: 'x' });
      task.close();
      await rec.closed;
      task.send({ data: 'late' });
      await settle();
      expect(errors.mock.calls.slice(5)).toEqual([
        ['qq-socket-worker: SocketTask.send:fail SocketTask.readyState is not OPEN'],
      ]);
    });

    it('never fires an event synchronously inside the call that registered the listener', async () => {
      const qq = makeQQ();
      const { task } = await open(qq);
      let fired = false;
      task.onOpen(() => {
        fired = true;
      });
      expect(fired).toBe(false);
      await settle();
      expect(fired).toBe(false); // open happened before: it does not replay
    });

    it('round-trips UTF-8 text with non-ASCII characters', async () => {
      const qq = makeQQ();
      const { task, rec } = await open(qq);
      const texts = ['héllo', '世界', '🎉 emoji 👍🏽', '', 'a'.repeat(70_000)];
      for (const data of texts) task.send({ data });
      expect(await rec.messages(texts.length)).toEqual(texts);
    });

    it('round-trips binary of exact byteLength, including 0 bytes and sizes around 64 KiB', async () => {
      const qq = makeQQ();
      const { task, rec } = await open(qq);
      const sizes = [0, 1, 125, 126, 127, 65_535, 65_536, 65_537, 1 << 20];
      for (const n of sizes) task.send({ data: bytes(n).buffer });
      const got = await rec.messages(sizes.length);
      got.forEach((data, i) => {
        expect(Object.prototype.toString.call(data)).toBe('[object ArrayBuffer]');
        expect((data as ArrayBuffer).byteLength).toBe(sizes[i]);
        expect(same(data, bytes(sizes[i] as number))).toBe(true);
      });
    });

    it('delivers a server message as its own ArrayBuffer of exactly its bytes', async () => {
      const qq = makeQQ();
      for (const n of [0, 5, 4096, 70_000]) {
        const { rec } = await open(qq, `/bytes/${n}`);
        const [data] = await rec.messages(1);
        expect(data).toBeInstanceOf(ArrayBuffer);
        expect((data as ArrayBuffer).byteLength).toBe(n);
        expect(same(data as ArrayBuffer, bytes(n))).toBe(true);
      }
    });

    it('sends only the viewed bytes of a TypedArray or DataView', async () => {
      const qq = makeQQ();
      const { task, rec } = await open(qq);
      const whole = bytes(10);
      task.send({ data: whole.subarray(2, 5) });
      task.send({ data: new DataView(whole.buffer, 7, 3) });
      task.send({ data: new Uint16Array([0x0102, 0x0304]) });
      const got = await rec.messages(3);
      expect(same(got[0] as ArrayBuffer, whole.subarray(2, 5))).toBe(true);
      expect(same(got[1] as ArrayBuffer, whole.subarray(7, 10))).toBe(true);
      expect((got[2] as ArrayBuffer).byteLength).toBe(4);
    });

    it('copies the caller buffer at call time, and moves it with transfer: true', async () => {
      const qq = makeQQ();
      const { task, rec } = await open(qq);
      const mine = bytes(8);
      task.send({ data: mine.buffer });
      mine.fill(0xee); // reuse at once: what was sent must not change
      const moved = bytes(16);
      task.send({ data: moved.buffer, transfer: true });
      expect(moved.buffer.byteLength).toBe(0); // detached by the time send returned
      const view = bytes(32);
      task.send({ data: view.subarray(4, 12), transfer: true });
      expect(view.byteLength).toBe(0);
      const got = await rec.messages(3);
      expect(same(got[0] as ArrayBuffer, bytes(8))).toBe(true);
      expect(same(got[1] as ArrayBuffer, bytes(16))).toBe(true);
      expect(same(got[2] as ArrayBuffer, bytes(32).subarray(4, 12))).toBe(true);
      const detached = callbacks();
      task.send({ data: moved.buffer, ...detached });
      await detached.done;
      expect(detached.calls[0]).toEqual({
        kind: 'fail',
        result: { errMsg: 'sendSocketMessage:fail data is a detached ArrayBuffer' },
      });
    });

    it('refuses data that is not a string or ArrayBuffer, and options that are not an object', async () => {
      const qq = makeQQ();
      const { task } = await open(qq);
      for (const data of [42, null, undefined, {}, [1, 2], true]) {
        const cb = callbacks();
        task.send({ data: data as never, ...cb });
        await cb.done;
        expect(cb.calls).toEqual([
          { kind: 'fail', result: { errMsg: 'sendSocketMessage:fail data must be string or ArrayBuffer' } },
          { kind: 'complete', result: { errMsg: 'sendSocketMessage:fail data must be string or ArrayBuffer' } },
        ]);
      }
      expect(() => task.send(undefined as never)).not.toThrow();
      expect(() => task.send('x' as never)).not.toThrow();
      expect(task.readyState).toBe(1);
    });

    it('fails send unless OPEN, with the SocketTask.send prefix', async () => {
      const qq = makeQQ();
      const task = qq.connectSocket({ url: `${server.url}/echo` });
      const rec = record(task);
      const early = callbacks();
      task.send({ data: 'x', ...early });
      await early.done;
      expect(early.calls[0]?.result).toEqual({ errMsg: 'SocketTask.send:fail SocketTask.readyState is not OPEN' });
      await rec.opened;
      task.close();
      const closing = callbacks();
      task.send({ data: 'x', ...closing });
      await closing.done;
      expect(closing.calls[0]?.result).toEqual({ errMsg: 'SocketTask.send:fail SocketTask.readyState is not OPEN' });
      await rec.closed;
    });

    it('calls success once the frame was handed over, and tracks bufferedAmount', async () => {
      const qq = makeQQ();
      const { task } = await open(qq);
      const cb = callbacks();
      task.send({ data: 'héllo', ...cb }); // 6 UTF-8 bytes
      task.send({ data: new ArrayBuffer(10) });
      expect(task.bufferedAmount).toBe(16);
      expect(cb.calls).toEqual([]);
      await cb.done;
      expect(cb.calls).toEqual([
        { kind: 'success', result: { errMsg: 'sendSocketMessage:ok' } },
        { kind: 'complete', result: { errMsg: 'sendSocketMessage:ok' } },
      ]);
      await settle();
      expect(task.bufferedAmount).toBe(0);
    });

    it('sends in call order', async () => {
      const qq = makeQQ();
      const { task } = await open(qq);
      const n = 300;
      const done = callbacks();
      for (let i = 0; i < n; i++) {
        task.send(i % 3 === 0 ? { data: Uint8Array.of(i & 0xff, i >> 8) } : { data: `s${i}` });
      }
      task.send({ data: 'last', ...done });
      await done.done;
      const got = await vi.waitFor(async () => {
        const received = await server.lastReceived();
        expect(received.length).toBe(n + 1);
        return received;
      }, WAIT);
      got.slice(0, n).forEach((m, i) => {
        if (i % 3 === 0) expect(m).toEqual([i & 0xff, i >> 8]);
        else expect(m).toBe(`s${i}`);
      });
    });

    it('puts the sends made before close() on the wire before the close frame', async () => {
      const qq = makeQQ();
      const { task, rec } = await open(qq);
      const before = (await server.closes()).length;
      task.send({ data: 'one' });
      task.send({ data: Uint8Array.of(2) });
      task.send({ data: 'three' });
      task.close({ code: 4000, reason: 'bye' });
      await rec.closed;
      await server.closed(before + 1);
      expect((await server.closes()).at(-1)).toEqual({ code: 4000, reason: 'bye' });
      expect(await server.lastReceived()).toEqual(['one', [2], 'three']);
    });

    it('validates close code and reason', async () => {
      const qq = makeQQ();
      const { task, rec } = await open(qq);
      const cases: Array<[object, string]> = [
        [{ code: 999 }, 'closeSocket:fail invalid code'],
        [{ code: 1001 }, 'closeSocket:fail invalid code'],
        [{ code: 1005 }, 'closeSocket:fail invalid code'],
        [{ code: 2999 }, 'closeSocket:fail invalid code'],
        [{ code: 5000 }, 'closeSocket:fail invalid code'],
        [{ code: 3000.5 }, 'closeSocket:fail invalid code'],
        [{ code: '1000' }, 'closeSocket:fail invalid code'],
        [{ code: null }, 'closeSocket:fail invalid code'],
        [{ reason: 42 }, 'closeSocket:fail reason must be a string'],
        [{ reason: 'é'.repeat(62) }, 'closeSocket:fail reason must not exceed 123 UTF-8 bytes'], // 124 bytes
        [{ reason: 'a'.repeat(124) }, 'closeSocket:fail reason must not exceed 123 UTF-8 bytes'],
      ];
      for (const [option, errMsg] of cases) {
        const cb = callbacks();
        task.close({ ...option, ...cb } as never);
        await cb.done;
        expect(cb.calls).toEqual([
          { kind: 'fail', result: { errMsg } },
          { kind: 'complete', result: { errMsg } },
        ]);
      }
      const notObject = callbacks();
      task.close('x' as never);
      expect(task.readyState).toBe(1);
      const cb = callbacks();
      const reason = `${'é'.repeat(61)}a`; // 123 bytes
      task.close({ code: 4999, reason, ...cb });
      expect(task.readyState).toBe(2);
      await cb.done;
      expect(cb.calls[0]).toEqual({ kind: 'success', result: { errMsg: 'closeSocket:ok' } });
      expect((await rec.closed).at(-1)).toEqual({ event: 'close', code: 4999, reason });
      expect(notObject.calls).toEqual([]);
    });

    it('closes an OPEN socket: success first, then onClose with the handshake code and reason', async () => {
      const qq = makeQQ();
      const { task, rec } = await open(qq);
      const order: string[] = [];
      task.onClose(() => order.push('onClose'));
      const result = task.close({ code: 3001, reason: 'done', success: () => order.push('success') });
      expect(result).toBeUndefined();
      const events = await rec.closed;
      expect(order).toEqual(['success', 'onClose']);
      expect(events).toEqual([
        expect.objectContaining({ event: 'open' }),
        { event: 'close', code: 3001, reason: 'done' },
      ]);
      await vi.waitFor(async () => expect(await server.closes()).toContainEqual({ code: 3001, reason: 'done' }), WAIT);
      expect(task.readyState).toBe(3);
    });

    it('closes with 1000 and "" by default', async () => {
      const qq = makeQQ();
      const { task, rec } = await open(qq);
      task.close();
      expect((await rec.closed).at(-1)).toEqual({ event: 'close', code: 1000, reason: '' });
    });

    it('aborts a CONNECTING task: success, then onClose with the requested code; no open, no error', async () => {
      const qq = makeQQ();
      const task = qq.connectSocket({ url: `${server.url}/echo` });
      const rec = record(task);
      const cb = callbacks();
      task.close({ code: 4000, reason: 'never mind', ...cb });
      expect(task.readyState).toBe(2);
      await cb.done;
      expect(cb.calls[0]).toEqual({ kind: 'success', result: { errMsg: 'closeSocket:ok' } });
      expect(await rec.closed).toEqual([{ event: 'close', code: 4000, reason: 'never mind' }]);
    });

    it('lets the close win even when the handshake completed while the main thread was busy', async () => {
      const qq = makeQQ();
      await open(qq); // host warm
      const task = qq.connectSocket({ url: `${server.url}/bytes/3` });
      const rec = record(task);
      // Block this thread long enough for the host to finish the handshake (inline: the close
      // command goes first as both sit in this thread's queue; thread: the open event waits).
      const until = Date.now() + 300;
      while (Date.now() < until) {}
      task.close({ code: 4001, reason: 'late' });
      expect(await rec.closed).toEqual([{ event: 'close', code: 4001, reason: 'late' }]);
    });

    it('fails close on a CLOSING or CLOSED task', async () => {
      const qq = makeQQ();
      const { task, rec } = await open(qq);
      task.close();
      const closing = callbacks();
      task.close({ ...closing });
      await closing.done;
      expect(closing.calls[0]?.result).toEqual({ errMsg: 'closeSocket:fail WebSocket is not connected' });
      await rec.closed;
      const closed = callbacks();
      task.close({ ...closed });
      await closed.done;
      expect(closed.calls[0]?.result).toEqual({ errMsg: 'closeSocket:fail WebSocket is not connected' });
    });

    it('never returns a Promise from task methods', async () => {
      const qq = makeQQ();
      const { task } = await open(qq);
      expect(task.send({ data: 'x' })).toBeUndefined();
      expect(task.close()).toBeUndefined();
    });

    it('exposes readyState constants', () => {
      const task = makeQQ().connectSocket({ url: 'bad' });
      expect([task.CONNECTING, task.OPEN, task.CLOSING, task.CLOSED]).toEqual([0, 1, 2, 3]);
    });

    it('keeps its extensions read-only: an assignment throws (strict code) and changes nothing', async () => {
      const qq = makeQQ();
      const { task } = await open(qq);
      task.send({ data: 'x' });
      const names = ['socketTaskId', 'url', 'readyState', 'bufferedAmount', 'protocol', 'CONNECTING', 'CLOSED'];
      const before = names.map((name) => task[name as keyof SocketTask]);
      for (const name of names) {
        expect(() => {
          (task as unknown as Record<string, unknown>)[name] = 'x';
        }, name).toThrow(TypeError);
      }
      expect(names.map((name) => task[name as keyof SocketTask])).toEqual(before);
      expect(Object.keys(task)).toEqual([]); // nothing of its own to assign to
    });

    it.each([
      ['/close/1000/bye', { code: 1000, reason: 'bye' }],
      ['/close/1001/', { code: 1001, reason: '' }],
      ['/close/4001/%E2%9C%93%20done', { code: 4001, reason: '✓ done' }],
      ['/close/0/', { code: 1005, reason: '' }],
    ])('reports the server close frame of %s', async (path, close) => {
      const qq = makeQQ();
      const task = qq.connectSocket({ url: `${server.url}${path}` });
      const events = await record(task).closed;
      expect(events.map((e) => e.event)).toEqual(['open', 'close']);
      expect(events.at(-1)).toEqual({ event: 'close', ...close });
    });

    it('reports a connection dropped without a close frame as error, then close 1006', async () => {
      const qq = makeQQ();
      const task = qq.connectSocket({ url: `${server.url}/drop` });
      const events = await record(task).closed;
      expect(events.map((e) => e.event)).toEqual(['open', 'error', 'close']);
      expect(events.at(-1)).toEqual({ event: 'close', code: 1006, reason: 'abnormal closure' });
      expect((events[1] as { errMsg: string }).errMsg).toMatch(/ECONNRESET|without a close frame/);
    });

    it('delivers every message that arrived before the close, then onClose', async () => {
      const qq = makeQQ();
      const task = qq.connectSocket({ url: `${server.url}/burst/50/4002` });
      const events = await record(task).closed;
      expect(events.map((e) => e.event)).toEqual(['open', ...Array(50).fill('message'), 'close']);
      expect(events.filter((e) => e.event === 'message').map((e) => (e as { data: string }).data)).toEqual(
        Array.from({ length: 50 }, (_, i) => `m${i}`),
      );
      expect(events.at(-1)).toEqual({ event: 'close', code: 4002, reason: '' });
    });

    it('fails sends still pending when the socket closes', async () => {
      const qq = makeQQ();
      const { task, rec } = await open(qq);
      const cbs = Array.from({ length: 5 }, () => callbacks());
      for (const cb of cbs) task.send({ data: 'x', ...cb });
      task.close();
      await rec.closed;
      await Promise.all(cbs.map((cb) => cb.done));
      for (const cb of cbs) expect(cb.calls).toHaveLength(2);
      expect(task.bufferedAmount).toBe(0);
    });
  });

  describe(`wire rules (${backend})`, () => {
    /** The events of a server that breaks a wire rule. Browsers hide which rule: error, then 1006. */
    const broken = (errMsg: string, code: number): Recorded[] =>
      browser
        ? [
            { event: 'error', errMsg: 'WebSocket error' },
            { event: 'close', code: 1006, reason: 'abnormal closure' },
          ]
        : [
            { event: 'error', errMsg },
            { event: 'close', code, reason: '' },
          ];

    it('closes with 1007 after invalid UTF-8 in a text frame', async () => {
      const qq = makeQQ();
      const task = qq.connectSocket({ url: `${server.url}/raw/8102c328` }); // FIN text, 2 bytes: C3 28
      const events = await record(task).closed;
      expect(events.slice(1)).toEqual(broken('Invalid WebSocket frame: invalid UTF-8 sequence', 1007));
      expect(events[0]).toMatchObject({ event: 'open' });
    });

    it('closes with 1002 after a close code that RFC 6455 forbids on the wire', async () => {
      const qq = makeQQ();
      const task = qq.connectSocket({ url: `${server.url}/raw/880203ed` }); // close, code 1005
      const events = await record(task).closed;
      expect(events.slice(1)).toEqual(broken('Invalid WebSocket frame: invalid status code 1005', 1002));
      expect(events[0]).toMatchObject({ event: 'open' });
    });

    it('closes with 1009 after a message over maxPayload, binary or text; a message at it passes', async () => {
      const qq = makeQQ({ maxPayload: 1000 });
      const over = [
        qq.connectSocket({ url: `${server.url}/bytes/1001` }),
        // Text over the limit: 100 × 'é' = 200 UTF-8 bytes, echoed back, against a limit of 150.
        makeQQ({ maxPayload: 150 }).connectSocket({ url: `${server.url}/echo` }),
      ];
      const recs = over.map(record);
      await recs[1]?.opened;
      over[1]?.send({ data: 'é'.repeat(100) });
      for (const rec of recs) {
        const events = await rec.closed;
        expect(events.map((e) => e.event)).toEqual(['open', 'error', 'close']);
        expect(events[1]).toEqual({ event: 'error', errMsg: 'Max payload size exceeded' });
        expect(events.at(-1)).toEqual({ event: 'close', code: 1009, reason: '' });
      }
      const at = qq.connectSocket({ url: `${server.url}/bytes/1000` });
      const rec = record(at);
      expect(((await rec.messages(1))[0] as ArrayBuffer).byteLength).toBe(1000);
      at.send({ data: 'é'.repeat(500) }); // 1000 bytes, in 500 UTF-16 units
      expect(await rec.messages(2)).toEqual([expect.any(ArrayBuffer), 'é'.repeat(500)]);
    });
  });

  describe(`global functions (${backend})`, () => {
    it('binds the first task; a new one binds only when the bound one is CLOSED', async () => {
      const qq = makeQQ();
      const seen: string[] = [];
      qq.onSocketMessage(({ data }) => seen.push(data as string));
      const a = await open(qq);
      const b = await open(qq);
      b.task.send({ data: 'to-b' });
      a.task.send({ data: 'to-a' });
      await Promise.all([a.rec.messages(1), b.rec.messages(1)]);
      expect(seen).toEqual(['to-a']);
      expect(await qq.sendSocketMessage({ data: 'via-global' })).toEqual({ errMsg: 'sendSocketMessage:ok' });
      await a.rec.messages(2);
      a.task.close();
      await a.rec.closed;
      // a is CLOSED; b is still OPEN but not bound: the globals fail until the next connectSocket.
      await expect(qq.sendSocketMessage({ data: 'x' })).rejects.toEqual({
        errMsg: 'sendSocketMessage:fail WebSocket is not connected',
      });
      const c = await open(qq);
      await qq.sendSocketMessage({ data: 'to-c' });
      expect(await c.rec.messages(1)).toEqual(['to-c']);
      expect(seen).toEqual(['to-a', 'via-global', 'to-c']);
    });

    it('keeps one slot per event (the last registration wins) and clears it with offSocketX', async () => {
      const qq = makeQQ();
      const calls: string[] = [];
      qq.onSocketOpen(() => calls.push('first'));
      qq.onSocketOpen(() => calls.push('second'));
      qq.onSocketClose(({ code }) => calls.push(`close ${code}`));
      qq.onSocketError(({ errMsg }) => calls.push(errMsg));
      const { task, rec } = await open(qq);
      expect(calls).toEqual(['second']);
      qq.onSocketMessage(() => calls.push('message'));
      qq.offSocketMessage();
      task.send({ data: 'x' });
      await rec.messages(1);
      await qq.closeSocket({ code: 4005 });
      await rec.closed;
      expect(calls).toEqual(['second', 'close 4005']);
    });

    it('fires global listeners with the same results as the task listeners', async () => {
      const qq = makeQQ();
      const global: unknown[] = [];
      qq.onSocketOpen((r) => global.push(r));
      qq.onSocketError((r) => global.push(r));
      qq.onSocketClose((r) => global.push(r));
      const task = qq.connectSocket({ url: `${server.url}/drop` });
      const events = await record(task).closed;
      expect(global).toHaveLength(3);
      expect(global[1]).toEqual({ errMsg: (events[1] as { errMsg: string }).errMsg });
      expect(global[2]).toEqual({ code: 1006, reason: 'abnormal closure' });
    });

    it('fails the globals before any connectSocket, and returns a Promise only without callbacks', async () => {
      const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
      const qq = makeQQ();
      const send = callbacks();
      expect(qq.sendSocketMessage({ data: 'x', ...send })).toBeUndefined();
      await send.done;
      expect(send.calls).toEqual([
        { kind: 'fail', result: { errMsg: 'sendSocketMessage:fail WebSocket is not connected' } },
        { kind: 'complete', result: { errMsg: 'sendSocketMessage:fail WebSocket is not connected' } },
      ]);
      const onlyComplete = callbacks();
      expect(qq.closeSocket({ complete: onlyComplete.complete })).toBeUndefined();
      await onlyComplete.done;
      expect(onlyComplete.calls).toEqual([
        { kind: 'complete', result: { errMsg: 'closeSocket:fail WebSocket is not connected' } },
      ]);
      const p = qq.closeSocket();
      expect(p).toBeInstanceOf(Promise);
      await expect(p).rejects.toEqual({ errMsg: 'closeSocket:fail WebSocket is not connected' });
      await expect(qq.sendSocketMessage({ data: 42 as never })).rejects.toEqual({
        errMsg: 'sendSocketMessage:fail data must be string or ArrayBuffer',
      });
      expect(errors).toHaveBeenCalledWith('qq-socket-worker: closeSocket:fail WebSocket is not connected');
    });

    it('never lets an unawaited rejection reach unhandledRejection, and logs it', async () => {
      const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
      const unhandled: unknown[] = [];
      const stop = runtime.onUnhandledRejection((reason) => unhandled.push(reason));
      try {
        const qq = makeQQ();
        qq.sendSocketMessage({ data: 'x' });
        qq.closeSocket({ code: 1 });
        await settle(100);
        expect(unhandled).toEqual([]);
        expect(errors).toHaveBeenCalledWith('qq-socket-worker: sendSocketMessage:fail WebSocket is not connected');
        expect(errors).toHaveBeenCalledWith('qq-socket-worker: closeSocket:fail invalid code');
      } finally {
        stop();
      }
    });

    it('closeSocket closes a CONNECTING bound task and validates like task.close', async () => {
      const qq = makeQQ();
      const task = qq.connectSocket({ url: `${server.url}/echo` });
      const rec = record(task);
      await expect(qq.closeSocket({ reason: 1 as never })).rejects.toEqual({
        errMsg: 'closeSocket:fail reason must be a string',
      });
      expect(await qq.closeSocket({ code: 3000, reason: 'r' })).toEqual({ errMsg: 'closeSocket:ok' });
      expect(await rec.closed).toEqual([{ event: 'close', code: 3000, reason: 'r' }]);
      await expect(qq.closeSocket()).rejects.toEqual({ errMsg: 'closeSocket:fail WebSocket is not connected' });
    });
  });

  describe(`peers (${backend})`, () => {
    it('talks to python3-websockets: text, binary, and its close code', async () => {
      const qq = makeQQ();
      const task = qq.connectSocket({ url: `${python.url}/echo` });
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
      const closing = record(qq.connectSocket({ url: `${python.url}/close/4200/from%20python` }));
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
      const rec = record(qq.connectSocket({ url: `${python.url}/mixed/${n}` }));
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
      const task = qq.connectSocket({ url: `${tlsServer.url}/echo` });
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

  describe(`lifecycle (${backend})`, () => {
    it('destroy() closes every socket with 1001 and later connectSocket calls fail', async () => {
      const qq = createQQ({ backend });
      const a = await open(qq);
      const b = await open(qq);
      const before = (await server.closes()).length;
      await qq.destroy();
      expect(a.task.readyState).toBe(3);
      expect((await a.rec.closed).at(-1)).toEqual({ event: 'close', code: 1001, reason: 'qq instance destroyed' });
      expect((await b.rec.closed).at(-1)).toEqual({ event: 'close', code: 1001, reason: 'qq instance destroyed' });
      await server.closed(before + 2);
      // Scripts may not send 1001: a browser puts 1000 on the wire (the tasks still hear 1001).
      const wire = { code: browser ? 1000 : 1001, reason: 'qq instance destroyed' };
      expect((await server.closes()).slice(before)).toEqual([wire, wire]);
      const cb = callbacks();
      const task = qq.connectSocket({ url: `${server.url}/echo`, ...cb });
      await cb.done;
      expect(cb.calls[0]?.result).toEqual({ errMsg: 'connectSocket:fail qq instance is destroyed' });
      expect(task.readyState).toBe(3);
      await qq.destroy(); // idempotent
    });

    it('keeps instances independent (limit, binding)', async () => {
      const one = makeQQ({ maxConnections: 1 });
      const two = makeQQ({ maxConnections: 1 });
      await open(one);
      const { task } = await open(two);
      await two.sendSocketMessage({ data: 'x' });
      expect(task.readyState).toBe(1);
    });

    it('survives 200 connect/close cycles without leaking sockets or ports', async () => {
      const qq = makeQQ({ maxConnections: 5 });
      // Earlier tests' connections close asynchronously at the server: start from none open.
      await vi.waitFor(async () => expect(await server.openCount()).toBe(0), WAIT);
      for (let i = 0; i < 200; i++) {
        const task = qq.connectSocket({ url: `${server.url}/echo` });
        const rec = record(task);
        await rec.opened;
        task.send({ data: `c${i}` });
        await rec.messages(1);
        task.close();
        await rec.closed;
      }
      await vi.waitFor(async () => expect(await server.openCount()).toBe(0), WAIT);
      await qq.destroy();
      if (runtime.openPorts) expect(runtime.openPorts()).toBe(0);
    });
  });
}
