/**
 * A test suite of the app's own that fakes timers (jest.useFakeTimers(), vi.useFakeTimers()):
 * the library's sockets are real I/O, and its own turn ends, batches and timeouts run on the
 * functions it took when it loaded, or on the originals where the fakes came first
 * (src/shared/timers.ts), so nothing waits for a fake clock.
 */
import * as loaded from 'qq-socket-worker';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectEcho, record } from './helpers/record.js';
import { startWsServer, type TestServer } from './helpers/servers.js';

/** Everything jest's modern fake timers fake, less process.nextTick (Node's streams need it). */
const FAKED = [
  'setTimeout',
  'clearTimeout',
  'setImmediate',
  'clearImmediate',
  'setInterval',
  'clearInterval',
  'queueMicrotask',
  'performance',
  'Date',
] as const;

let server: TestServer;
beforeAll(async () => {
  server = await startWsServer();
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

/**
 * jest's legacy timers: mocks that keep no originals, of everything but queueMicrotask and
 * performance, whose timers never fire here (their handles have ref/unref, as jest's node
 * environment gives them).
 */
const LEGACY = ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval'];
const legacyMock = () =>
  vi.fn(() => {
    const handle = { ref: () => handle, unref: () => handle, hasRef: () => false };
    return handle;
  });

/** A copy of the library loaded now (under whatever the test has faked). */
const loadFresh = async (): Promise<typeof loaded> => {
  vi.resetModules();
  const fresh: typeof loaded = await import('qq-socket-worker');
  expect(fresh).not.toBe(loaded);
  return fresh;
};

/**
 * The library as a test gets it: loaded before the test faked timers, or after (jest's
 * `enableGlobally`), or after mocks that keep no originals.
 */
const when = {
  'faked after the library loaded': async () => {
    vi.useFakeTimers({ toFake: [...FAKED] });
    return loaded;
  },
  'faked before the library loaded': async () => {
    vi.useFakeTimers({ toFake: [...FAKED] });
    return loadFresh();
  },
  "stubbed before the library loaded (jest's legacy timers)": async () => {
    for (const name of LEGACY) vi.stubGlobal(name, legacyMock());
    return loadFresh();
  },
};

describe.each(['inline', 'thread'] as const)('under fake timers (%s)', (backend) => {
  it.each(Object.keys(when) as (keyof typeof when)[])(
    '%s: echoes, closes, times out a silent server and is destroyed in real time',
    async (order) => {
      const { createQQ } = await when[order]();
      const qq = createQQ({ backend });
      const task = qq.connectSocket({ url: `${server.url}/echo` });
      const rec = record(task);
      await rec.opened;
      await expectEcho(task, rec, 'while time stands still');
      task.close({ code: 1000 });
      expect((await rec.closed).at(-1)).toEqual({ event: 'close', code: 1000, reason: '' });
      const silent = qq.connectSocket({ url: `${server.url}/silent`, timeout: 200 });
      expect((await record(silent).closed).slice(0, 1)).toEqual([
        { event: 'error', errMsg: 'connectSocket:fail timeout' },
      ]);
      await qq.destroy();
    },
  );
});
