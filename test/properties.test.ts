/**
 * Bad input from the caller (issue 5), property-based: arbitrary values for every option of
 * connectSocket, send, close and the globals. A call never throws and never hangs, settles
 * exactly once (success or fail, then complete) with an errMsg of docs/semantics.md, and leaves the
 * instance usable. `allowedHosts` keeps every generated url on loopback. And createQQ takes any
 * value of any option or throws a TypeError that names it (never another error, nor a message
 * that would leave the caller guessing which option was wrong).
 */
import fc from 'fast-check';
import { createQQ, type QQ, type SocketTask } from 'qq-socket-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record } from './helpers/record.js';
import { startWsServer, type TestServer } from './helpers/servers.js';

const TYPE = '(Undefined|Null|Number|Boolean|String|Object|Array|Function|Symbol|BigInt)';
const ALLOWED: Record<string, RegExp[]> = {
  connectSocket: [
    /^connectSocket:ok$/,
    new RegExp(`^connectSocket:fail parameter error: parameter should be Object instead of ${TYPE}$`),
    new RegExp(
      `^connectSocket:fail parameter error: parameter\\.(url|header|protocols|tcpNoDelay|perMessageDeflate|timeout) should be (String|Object|Array|Boolean|Number) instead of ${TYPE}$`,
    ),
    /^connectSocket:fail parameter error: parameter\.timeout should be a Number >= 0 instead of (-\S+|NaN)$/,
    /^connectSocket:fail invalid url ".*"$/s,
    /^connectSocket:fail url not in domain list$/,
    /^connectSocket:fail header Referer is not allowed$/,
    /^connectSocket:fail invalid header .*$/s,
    /^connectSocket:fail invalid protocol .*$/s,
    /^connectSocket:fail exceed max concurrent count \d+$/,
  ],
  send: [
    /^sendSocketMessage:ok$/,
    new RegExp(`^sendSocketMessage:fail parameter error: parameter should be Object instead of ${TYPE}$`),
    /^sendSocketMessage:fail data must be string or ArrayBuffer$/,
    /^sendSocketMessage:fail data is a detached ArrayBuffer$/,
    /^SocketTask\.send:fail SocketTask\.readyState is not OPEN$/,
    /^sendSocketMessage:fail WebSocket is not connected$/,
  ],
  close: [
    /^closeSocket:ok$/,
    new RegExp(`^closeSocket:fail parameter error: parameter should be Object instead of ${TYPE}$`),
    /^closeSocket:fail invalid code$/,
    /^closeSocket:fail reason must be a string$/,
    /^closeSocket:fail reason must not exceed 123 UTF-8 bytes$/,
    /^closeSocket:fail WebSocket is not connected$/,
  ],
};

/** Records the callbacks of one call; `settled` rejects if they do not come within 5 s. */
function observe() {
  const calls: Array<[string, { errMsg: string }]> = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  // Settles 5 ms after complete (so a stray second call shows up); fails if nothing came in 5 s.
  const settled = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no callback: ${JSON.stringify(calls)}`)), 5000);
    void done.then(() => {
      clearTimeout(timer);
      setTimeout(resolve, 5);
    });
  });
  // A call whose option is no object gets no callbacks, and its `settled` is never awaited: its
  // rejection must not count as unhandled (it did, whenever the file ran longer than 5 s).
  settled.catch(() => {});
  return {
    calls,
    settled,
    callbacks: {
      success: (r: { errMsg: string }) => calls.push(['success', r]),
      fail: (r: { errMsg: string }) => calls.push(['fail', r]),
      complete: (r: { errMsg: string }) => {
        calls.push(['complete', r]);
        resolve();
      },
    },
  };
}

/**
 * Calls `invoke` with `o`, plus recording callbacks when `o` is an options object; the call must
 * not throw. Returns what it returned and the recording.
 */
function callWith(o: unknown, invoke: (option: never) => unknown) {
  const seen = observe();
  const isObject = typeof o === 'object' && o !== null && !Array.isArray(o);
  let returned: unknown;
  expect(() => {
    returned = invoke((isObject ? { ...(o as object), ...seen.callbacks } : o) as never);
  }).not.toThrow();
  return { seen, isObject, returned };
}

/** Exactly one of success/fail, then complete with the same result, whose errMsg is allowed. */
function expectSettledOnce(calls: Array<[string, { errMsg: string }]>, allowed: RegExp[]): string {
  expect(calls).toHaveLength(2);
  const [[kind, result], [last, final]] = calls as [[string, { errMsg: string }], [string, { errMsg: string }]];
  expect(last).toBe('complete');
  expect(final).toBe(result);
  expect(kind).toBe(result.errMsg.endsWith(':ok') ? 'success' : 'fail');
  expect(
    allowed.some((re) => re.test(result.errMsg)),
    result.errMsg,
  ).toBe(true);
  return result.errMsg;
}

/** Any value, with the shapes that matter over-represented. */
const anyValue = fc.oneof(
  fc.anything(),
  fc.string(),
  fc.integer({ min: -5, max: 6000 }),
  fc.double(),
  fc.boolean(),
  fc.constant(undefined),
  fc.constant(null),
  fc.constant(Symbol('s')),
  fc.bigInt(),
  fc.func(fc.anything()),
);

describe.each([
  ['inline', 120],
  ['thread', 40],
] as const)('arbitrary input (%s)', (backend, numRuns) => {
  let server: TestServer;
  let qq: QQ;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    server = await startWsServer();
    qq = createQQ({ backend, allowedHosts: ['127.0.0.1'], maxConnections: 3 });
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await qq.destroy();
    await server.close();
    expect(unhandled).toEqual([]);
  });

  const openTask = async () => {
    const task = qq.connectSocket({ url: `${server.url}/echo` });
    await record(task).opened;
    return task;
  };

  /** The instance still works: a round trip on a fresh task. */
  const expectUsable = async () => {
    const task = await openTask();
    const rec = record(task);
    task.send({ data: 'still usable' });
    expect(await rec.messages(1)).toEqual(['still usable']);
    task.close();
    await rec.closed;
  };

  it('connectSocket never throws, settles once with an allowed errMsg, and never echoes a header value', async () => {
    const url = fc.oneof(
      anyValue,
      fc.constantFrom(`${server.url}/echo`, `${server.url.toUpperCase()}/`, 'ws://localhost/', 'wss://evil.test/'),
      fc.webPath().map((p) => `${server.url}${p}`),
      fc.string().map((s) => `ws://${s}`),
    );
    const header = fc.oneof(anyValue, fc.dictionary(fc.string(), fc.oneof(fc.string(), anyValue)));
    const option = fc.oneof(
      anyValue,
      fc.record(
        {
          url,
          header,
          protocols: fc.oneof(anyValue, fc.array(fc.string())),
          tcpNoDelay: anyValue,
          perMessageDeflate: anyValue,
          timeout: anyValue,
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(option, async (o) => {
        const seen = observe();
        const isObject = typeof o === 'object' && o !== null && !Array.isArray(o);
        let task: SocketTask<unknown, unknown> | undefined;
        expect(() => {
          task = qq.connectSocket((isObject ? { ...o, ...seen.callbacks } : o) as never);
        }).not.toThrow();
        expect(typeof task?.send).toBe('function');
        // No callbacks to observe on a non-object. (Not `withCallbacks === o`: NaN is not NaN.)
        if (!isObject) return;
        await seen.settled;
        const errMsg = expectSettledOnce(seen.calls, ALLOWED.connectSocket as RegExp[]);
        if (errMsg.startsWith('connectSocket:fail invalid header ')) {
          for (const value of Object.values((o as { header: Record<string, unknown> }).header ?? {})) {
            if (typeof value === 'string' && value.length >= 6) expect(errMsg).not.toContain(value);
          }
        }
        if (errMsg === 'connectSocket:ok') {
          task?.close(); // abort: keep the connection slots free
          await record(task as SocketTask).closed;
        } else {
          expect(task?.readyState).toBe(3);
        }
      }),
      { numRuns },
    );
    await expectUsable();
  });

  it('send never throws and settles once with an allowed errMsg', async () => {
    const task = await openTask();
    const data = fc.oneof(
      anyValue,
      fc.string(),
      fc.uint8Array({ maxLength: 2048 }),
      fc.uint8Array({ maxLength: 64 }).map((a) => a.buffer),
      fc.uint8Array({ minLength: 4, maxLength: 64 }).map((a) => new DataView(a.buffer, 1, a.length - 2)),
    );
    const option = fc.oneof(anyValue, fc.record({ data, transfer: anyValue }, { requiredKeys: [] }));
    await fc.assert(
      fc.asyncProperty(option, fc.boolean(), async (o, viaGlobal) => {
        const { seen, isObject, returned } = callWith(o, (option) =>
          viaGlobal ? qq.sendSocketMessage(option) : task.send(option),
        );
        if (!isObject) {
          if (viaGlobal)
            await (returned as Promise<unknown>).catch(() => {}); // settles, never hangs
          else expect(returned).toBeUndefined();
          return;
        }
        expect(returned).toBeUndefined();
        await seen.settled;
        expectSettledOnce(seen.calls, ALLOWED.send as RegExp[]);
      }),
      { numRuns },
    );
    expect(task.readyState).toBe(1);
    task.close();
    await expectUsable();
  });

  it('close never throws and settles once with an allowed errMsg', async () => {
    let task = await openTask();
    const option = fc.oneof(
      anyValue,
      fc.record(
        {
          code: fc.oneof(anyValue, fc.integer({ min: 990, max: 5010 }), fc.constantFrom(1000, 3000, 4999)),
          reason: fc.oneof(anyValue, fc.string({ maxLength: 130 }), fc.string({ unit: 'grapheme', maxLength: 70 })),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(option, fc.boolean(), async (o, viaGlobal) => {
        const { seen, isObject, returned } = callWith(o, (option) =>
          viaGlobal ? qq.closeSocket(option) : task.close(option),
        );
        if (isObject) {
          await seen.settled;
          expectSettledOnce(seen.calls, ALLOWED.close as RegExp[]);
        } else if (viaGlobal && returned instanceof Promise) {
          await returned.catch(() => {}); // settles, never hangs
        }
        // close(undefined) is a valid close with the defaults; any accepted close: wait, reopen.
        if (task.readyState !== 1) {
          if (task.readyState !== 3) await new Promise((r) => task.onClose(r));
          task = await openTask();
        }
      }),
      { numRuns: Math.ceil(numRuns / 2) },
    );
    task.close();
    await expectUsable();
  });
});

describe('arbitrary createQQ options', () => {
  const OPTIONS = [
    'backend',
    'workerUrl',
    'maxConnections',
    'connectTimeout',
    'allowedHosts',
    'requireSecure',
    'maxPayload',
    'tls',
    'proxy',
    'noProxy',
    'threads',
    'heartbeat',
  ] as const;

  it('take any value, or throw a TypeError that names the option', async () => {
    const value = fc.oneof(
      fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withDate: true }),
      fc.string(),
      fc.array(fc.string()),
      fc.integer(),
      fc.double(),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...OPTIONS), value, fc.constantFrom('proxy', 'none'), async (name, v, proxy) => {
        const options: Record<string, unknown> = { backend: 'inline', [name]: v };
        // noProxy is read with a proxy; a proxy with a bypass list.
        if (proxy === 'proxy' && name !== 'proxy') options.proxy = 'http://127.0.0.1:9';
        if (name === 'proxy') options.noProxy = 'localhost';
        let qq: QQ;
        try {
          qq = createQQ(options as never);
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError);
          expect((error as Error).message).toMatch(new RegExp(`^createQQ: options\\.${name}(\\.\\w+)? must be `));
          return;
        }
        await qq.destroy();
      }),
      { numRuns: 400 },
    );
  });
});
