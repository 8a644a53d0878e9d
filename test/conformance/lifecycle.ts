/**
 * An instance's life: `destroy()`, instances independent of each other, and connect/close cycles
 * that leak nothing (docs/semantics.md "destroy and the host's life").
 */
import { createQQ } from 'qq-socket-worker';
import { describe, expect, it, vi } from 'vitest';
import { callbacks, record, WAIT } from '../helpers/record.js';
import type { Context } from './context.js';

export function lifecycleSuite(ctx: Context): void {
  const { backend, runtime, browser, makeQQ, open } = ctx;
  describe(`lifecycle (${backend})`, () => {
    it('destroy() closes every socket with 1001 and later connectSocket calls fail', async () => {
      const qq = createQQ({ backend });
      const a = await open(qq);
      const b = await open(qq);
      const before = (await ctx.server.closes()).length;
      await qq.destroy();
      expect(a.task.readyState).toBe(3);
      expect((await a.rec.closed).at(-1)).toEqual({ event: 'close', code: 1001, reason: 'qq instance destroyed' });
      expect((await b.rec.closed).at(-1)).toEqual({ event: 'close', code: 1001, reason: 'qq instance destroyed' });
      await ctx.server.closed(before + 2);
      // Scripts may not send 1001: a browser puts 1000 on the wire (the tasks still hear 1001).
      const wire = { code: browser ? 1000 : 1001, reason: 'qq instance destroyed' };
      expect((await ctx.server.closes()).slice(before)).toEqual([wire, wire]);
      const cb = callbacks();
      const task = qq.connectSocket({ url: `${ctx.server.url}/echo`, ...cb });
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
      await vi.waitFor(async () => expect(await ctx.server.openCount()).toBe(0), WAIT);
      for (let i = 0; i < 200; i++) {
        const task = qq.connectSocket({ url: `${ctx.server.url}/echo` });
        const rec = record(task);
        await rec.opened;
        task.send({ data: `c${i}` });
        await rec.messages(1);
        task.close();
        await rec.closed;
      }
      await vi.waitFor(async () => expect(await ctx.server.openCount()).toBe(0), WAIT);
      await qq.destroy();
      if (runtime.openPorts) expect(runtime.openPorts()).toBe(0);
    });
  });
}
