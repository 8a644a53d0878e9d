// Type tests of the public API (run by vitest's typecheck mode against the emitted .d.ts).
import {
  createQQ,
  type GeneralCallbackResult,
  type OnOpenResult,
  type QQ,
  type QQOptions,
  type SocketTask,
  type StageFactory,
} from 'qq-socket-worker';
import type {} from 'qq-socket-worker/global';
import { describe, expectTypeOf, it } from 'vitest';

const qq = createQQ();
const task = qq.connectSocket({ url: 'wss://example.test' });

describe('public types', () => {
  it('createQQ takes QQOptions and returns QQ', () => {
    expectTypeOf(createQQ).parameter(0).toEqualTypeOf<QQOptions | undefined>();
    expectTypeOf(createQQ({ backend: 'inline', tls: { ca: 'pem' }, threads: 2 })).toEqualTypeOf<QQ>();
    // @ts-expect-error an unknown backend
    createQQ({ backend: 'nope' });
    // @ts-expect-error maxConnections is a number
    createQQ({ maxConnections: '5' });
    expectTypeOf<QQOptions['proxy']>().toEqualTypeOf<string | URL | undefined>();
    expectTypeOf<QQOptions['heartbeat']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<QQOptions['noProxy']>().toEqualTypeOf<string | string[] | undefined>();
  });

  it('connectSocket returns a SocketTask; url is required', () => {
    expectTypeOf(task).toEqualTypeOf<SocketTask>();
    // @ts-expect-error url is required
    qq.connectSocket({});
    qq.connectSocket({
      url: 'ws://127.0.0.1',
      success: (r) => expectTypeOf(r.socketTaskId).toEqualTypeOf<number>(),
    });
  });

  it('global send/close return a Promise only without callbacks', () => {
    expectTypeOf(qq.sendSocketMessage({ data: 'x' })).toEqualTypeOf<Promise<GeneralCallbackResult>>();
    expectTypeOf(qq.sendSocketMessage({ data: new ArrayBuffer(1), success: () => {} })).toEqualTypeOf<void>();
    expectTypeOf(qq.closeSocket()).toEqualTypeOf<Promise<GeneralCallbackResult>>();
    expectTypeOf(qq.closeSocket({ code: 1000, fail: () => {} })).toEqualTypeOf<void>();
    expectTypeOf(qq.destroy()).toEqualTypeOf<Promise<void>>();
  });

  it('task methods return void and events carry typed results', () => {
    expectTypeOf(task.send({ data: new Uint8Array(2), transfer: true })).toEqualTypeOf<void>();
    expectTypeOf(task.close({ code: 4000, reason: 'x' })).toEqualTypeOf<void>();
    task.onOpen((r) => expectTypeOf(r).toEqualTypeOf<OnOpenResult>());
    task.onMessage(({ data }) => expectTypeOf(data).toEqualTypeOf<string | ArrayBuffer>());
    task.onClose(({ code, reason }) => {
      expectTypeOf(code).toEqualTypeOf<number>();
      expectTypeOf(reason).toEqualTypeOf<string>();
    });
    task.onError(({ errMsg }) => expectTypeOf(errMsg).toEqualTypeOf<string>());
    // @ts-expect-error data must be string or ArrayBuffer(View)
    task.send({ data: 42 });
  });

  it('task extensions are read-only', () => {
    expectTypeOf(task.readyState).toEqualTypeOf<0 | 1 | 2 | 3>();
    expectTypeOf(task.bufferedAmount).toEqualTypeOf<number>();
    // @ts-expect-error read-only
    task.readyState = 1;
  });

  it('types a pipeline task by its stage: what it emits, what its send encodes', () => {
    // A stage as the app writes it, and the module's type given to createQQ.
    const book: StageFactory<{ s: string; u: number }, { subscribe: string }> = (ctx) => ({
      message: (data) => ctx.emit({ s: String(data), u: 1 }, 'k'),
      send: (value) => JSON.stringify(value),
    });
    const piped = createQQ<{ book: typeof book }>({ pipeline: '/feed.pipeline.js' });
    const booked = piped.connectSocket({ url: 'wss://example.test', pipeline: 'book' });
    booked.onMessage(({ data, key, skipped }) => {
      expectTypeOf(data).toEqualTypeOf<{ s: string; u: number }>();
      expectTypeOf(key).toEqualTypeOf<string | undefined>();
      expectTypeOf(skipped).toEqualTypeOf<number | undefined>();
    });
    booked.send({ data: { subscribe: 'BTCUSDT' } });
    booked.send({ data: 'text goes as it is' });
    // @ts-expect-error not what the stage's send encodes
    booked.send({ data: { unsubscribe: 'BTCUSDT' } });
    // The built-in json stage, or a stage the type does not know: unknown.
    piped.connectSocket({ url: 'wss://example.test', pipeline: 'json' }).onMessage(({ data }) => {
      expectTypeOf(data).toEqualTypeOf<unknown>();
    });
    // @ts-expect-error a context emits what the stage says
    const wrong: StageFactory<number> = (ctx) => ({ message: () => ctx.emit('text') });
    void wrong;
  });

  it('qq-socket-worker/global declares globalThis.qq', () => {
    expectTypeOf(globalThis.qq).toEqualTypeOf<QQ>();
  });
});
