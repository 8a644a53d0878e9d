// The conformance suite against `auto` in a page without workers, MessageChannel,
// structuredClone or TextEncoder/TextDecoder (what a DOM emulation such as jsdom lacks): `auto`
// runs inline there, over in-thread ports (src/main/channel.ts).

import { createQQ } from 'qq-socket-worker';
import { expect, it, vi } from 'vitest';
import { conformance } from './conformance/index.js';
import { missing } from './helpers/bare-globals.js';
import { browserPeers, browserRuntime } from './helpers/browser-peers.js';
import { callbacks, record } from './helpers/record.js';

it('runs in a page without what a DOM emulation lacks', () => {
  expect(missing).toEqual([]);
});

conformance('auto', browserRuntime);

it('sends a copy for transfer: true where nothing can detach a buffer, the caller keeping it', async () => {
  const transfer = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'transfer');
  expect(transfer).toBeDefined(); // else this test would not take it away
  const server = await browserPeers.start({});
  const qq = createQQ({ backend: 'inline' });
  try {
    const task = qq.connectSocket({ url: `${server.url}/echo` });
    const rec = record(task);
    await rec.opened;
    Reflect.deleteProperty(ArrayBuffer.prototype, 'transfer');
    const mine = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const cb = callbacks();
    task.send({ data: mine.subarray(1, 5), transfer: true, ...cb });
    Object.defineProperty(ArrayBuffer.prototype, 'transfer', transfer as PropertyDescriptor);
    mine[2] = 0xee; // the caller's buffer is its own still: what was sent must not change
    await cb.done;
    expect(cb.calls.map((c) => c.kind)).toEqual(['success', 'complete']);
    const [echoed] = await rec.messages(1);
    expect([...new Uint8Array(echoed as ArrayBuffer)]).toEqual([2, 3, 4, 5]);
    expect(mine.byteLength).toBe(6);
  } finally {
    if (!('transfer' in ArrayBuffer.prototype)) {
      Object.defineProperty(ArrayBuffer.prototype, 'transfer', transfer as PropertyDescriptor);
    }
    await qq.destroy();
    await server.close();
  }
});

/** The library loaded before the test fakes timers, or after (jest's `fakeTimers.enableGlobally`). */
const library = {
  before: async () => createQQ,
  // A second copy of the build, loaded now: a module URL of its own.
  after: async (): Promise<typeof createQQ> => {
    const url = `${new URL('../dist/browser/index.js', import.meta.url).href}?loaded-under-fakes`;
    return ((await import(/* @vite-ignore */ url)) as { createQQ: typeof createQQ }).createQQ;
  },
};

it.each(['before', 'after'] as const)(
  "echoes under a test's fake timers (jest's jsdom setup), the library loaded %s they were faked",
  async (order) => {
    const server = await browserPeers.start({});
    const faked = [
      'setTimeout',
      'clearTimeout',
      'setInterval',
      'clearInterval',
      'queueMicrotask',
      'performance',
      'Date',
    ];
    vi.useFakeTimers({ toFake: faked as never });
    const create = await library[order]();
    expect(create === createQQ).toBe(order === 'before');
    const qq = create({ backend: 'inline' });
    try {
      const task = qq.connectSocket({ url: `${server.url}/echo` });
      const rec = record(task);
      await rec.opened;
      task.send({ data: 'while time stands still' });
      expect(await rec.messages(1)).toEqual(['while time stands still']);
      task.close({ code: 1000 });
      expect((await rec.closed).at(-1)).toEqual({ event: 'close', code: 1000, reason: '' });
    } finally {
      vi.useRealTimers();
      await qq.destroy();
      await server.close();
    }
  },
);
