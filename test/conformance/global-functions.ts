/**
 * The global functions (`qq.onSocket*`, `sendSocketMessage`, `closeSocket`) and the task they
 * bind (docs/semantics.md "The global functions").
 */
import { describe, expect, it, vi } from 'vitest';
import { callbacks, record, settle } from '../helpers/record.js';
import type { Context } from './context.js';

export function globalFunctionsSuite(ctx: Context): void {
  const { backend, runtime, makeQQ, open } = ctx;
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
      const { task, rec } = await open(qq, '/after-message/drop');
      task.send({ data: 'go' });
      const events = await rec.closed;
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
      const task = qq.connectSocket({ url: `${ctx.server.url}/echo` });
      const rec = record(task);
      await expect(qq.closeSocket({ reason: 1 as never })).rejects.toEqual({
        errMsg: 'closeSocket:fail reason must be a string',
      });
      expect(await qq.closeSocket({ code: 3000, reason: 'r' })).toEqual({ errMsg: 'closeSocket:ok' });
      expect(await rec.closed).toEqual([{ event: 'close', code: 3000, reason: 'r' }]);
      await expect(qq.closeSocket()).rejects.toEqual({ errMsg: 'closeSocket:fail WebSocket is not connected' });
    });
  });
}
