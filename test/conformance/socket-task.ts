/**
 * `SocketTask`: listeners, send, close and the events of one task (docs/semantics.md
 * "SocketTask").
 */
import type { SocketTask } from 'qq-socket-worker';
import { describe, expect, it, vi } from 'vitest';
import { callbacks, type Recorded, record, settle, WAIT } from '../helpers/record.js';
import { bytes, type Context, same } from './context.js';

export function socketTaskSuite(ctx: Context): void {
  const { backend, browser, makeQQ, open } = ctx;
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
      const task = qq.connectSocket({ url: `${ctx.server.url}/echo` });
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
      const task = qq.connectSocket({ url: `${ctx.server.url}/echo` });
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
      qq.connectSocket({ url: `${ctx.server.url}/echo` }); // one too many
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
      const task = qq.connectSocket({ url: `${ctx.server.url}/echo` });
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
        const received = await ctx.server.lastReceived();
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
      const before = (await ctx.server.closes()).length;
      task.send({ data: 'one' });
      task.send({ data: Uint8Array.of(2) });
      task.send({ data: 'three' });
      task.close({ code: 4000, reason: 'bye' });
      await rec.closed;
      await ctx.server.closed(before + 1);
      expect((await ctx.server.closes()).at(-1)).toEqual({ code: 4000, reason: 'bye' });
      expect(await ctx.server.lastReceived()).toEqual(['one', [2], 'three']);
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
      await vi.waitFor(
        async () => expect(await ctx.server.closes()).toContainEqual({ code: 3001, reason: 'done' }),
        WAIT,
      );
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
      const task = qq.connectSocket({ url: `${ctx.server.url}/echo` });
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
      const task = qq.connectSocket({ url: `${ctx.server.url}/bytes/3` });
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
      const task = qq.connectSocket({ url: `${ctx.server.url}${path}` });
      const events = await record(task).closed;
      expect(events.map((e) => e.event)).toEqual(['open', 'close']);
      expect(events.at(-1)).toEqual({ event: 'close', ...close });
    });

    it('reports a connection dropped without a close frame as error, then close 1006', async () => {
      const { task, rec } = await open(makeQQ(), '/after-message/drop');
      task.send({ data: 'go' });
      const events = await rec.closed;
      expect(events.map((e) => e.event)).toEqual(['open', 'error', 'close']);
      expect(events.at(-1)).toEqual({ event: 'close', code: 1006, reason: 'abnormal closure' });
      expect((events[1] as { errMsg: string }).errMsg).toMatch(/ECONNRESET|without a close frame/);
    });

    it('delivers every message that arrived before the close, then onClose', async () => {
      const qq = makeQQ();
      const task = qq.connectSocket({ url: `${ctx.server.url}/burst/50/4002` });
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
}
