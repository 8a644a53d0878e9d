/**
 * Pipelines (docs/semantics.md "Pipelines") on any backend, in Node (pipeline.test.ts) and in
 * Chromium (pipeline.browser.test.ts): a stage of the app's module (fixtures/feed.pipeline.mjs)
 * takes each message in the host and the task receives what it emits: filtered, keyed values
 * (latest per key, `skipped` exact), unkeyed ones in order; `send` encoding, `ctx.send` from the
 * host, and every way a stage fails, with its exact errMsg and close code. What only one runtime
 * can show (a page stalled while the host reads on, flow control, reconnects) is in those files.
 */
import { type Backend, createQQ, type QQ, type QQOptions, type SocketTask } from 'qq-socket-worker';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import type { PeerServer, Runtime } from '../helpers/peers.js';
import { callbacks, record, WAIT } from '../helpers/record.js';

export const MODULE = new URL('../fixtures/feed.pipeline.mjs', import.meta.url);
export const BROKEN = new URL('../fixtures/broken.pipeline.mjs', import.meta.url);

export interface Got {
  data: unknown;
  key?: string;
  skipped?: number;
}

/** Everything a task heard: values (with key and skipped), errors, the close. */
export function watch(task: SocketTask<unknown, unknown>) {
  const values: Got[] = [];
  const events: unknown[] = [];
  task.onMessage((r) => {
    const { data, key, skipped } = r as Got;
    values.push(key === undefined ? { data } : { data, key, skipped });
  });
  task.onError(({ errMsg }) => events.push({ error: errMsg }));
  task.onClose(({ code, reason }) => events.push({ close: code, reason }));
  const closed = new Promise<void>((resolve) => task.onClose(() => resolve()));
  return { values, events, closed };
}

/** Per key: every delta sent is one delivery or one skip, and the last delivered is the last sent. */
export function expectWholeBook(values: Got[], n: number, keys: number): void {
  for (let k = 0; k < keys; k++) {
    const mine = values.filter((v) => v.key === `S${k}`);
    const sent = Array.from({ length: n }, (_, i) => i).filter((i) => i % keys === k);
    expect(mine.reduce((sum, v) => sum + 1 + (v.skipped as number), 0)).toBe(sent.length);
    expect(mine.at(-1)?.data).toEqual({ s: `S${k}`, u: sent.at(-1) });
  }
  // Only deltas crossed (the trades were filtered), and `done`, unkeyed, came last.
  expect(values.filter((v) => v.key === undefined)).toEqual([{ data: { done: true } }]);
}

export function pipelineSuite(backend: Backend, runtime: Runtime): void {
  let server: PeerServer;
  const instances: QQ[] = [];
  const make = (options: QQOptions = {}) => {
    const qq = createQQ({ backend, pipeline: MODULE, ...options });
    instances.push(qq);
    return qq;
  };
  beforeAll(async () => {
    server = await runtime.peers.start();
  });
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((qq) => qq.destroy()));
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await server.close();
  });

  it("'json' parses text in the host, passes binary on, and stringifies a value sent", async () => {
    const qq = createQQ({ backend }); // the built-in stage needs no module
    instances.push(qq);
    const task = qq.connectSocket({ url: `${server.url}/echo`, pipeline: 'json' });
    const w = watch(task);
    await record(task).opened;
    task.send({ data: { order: 1, side: 'buy' } });
    task.send({ data: '[1,2,3]' });
    task.send({ data: new Uint8Array([7, 8, 9]).buffer });
    await vi.waitFor(() => expect(w.values).toHaveLength(3), WAIT);
    expect(w.values.slice(0, 2)).toEqual([{ data: { order: 1, side: 'buy' } }, { data: [1, 2, 3] }]);
    expect([...new Uint8Array(w.values[2]?.data as ArrayBuffer)]).toEqual([7, 8, 9]);
    expect(await server.lastReceived()).toEqual(['{"order":1,"side":"buy"}', '[1,2,3]', [7, 8, 9]]);
  });

  it('filters and keys an order book: the latest per key, skipped exact, none lost', async () => {
    const n = 2000;
    const keys = 5;
    const task = make().connectSocket({ url: `${server.url}/book/${n}/${keys}`, pipeline: 'book' });
    const w = watch(task);
    await vi.waitFor(() => expect(w.values.at(-1)).toEqual({ data: { done: true } }), WAIT);
    expectWholeBook(w.values, n, keys);
    expect(w.events).toEqual([]);
  });

  it('delivers unkeyed values every one, in order', async () => {
    const task = make().connectSocket({ url: `${server.url}/burst/2000/1000`, pipeline: 'numbered' });
    const w = watch(task);
    await w.closed;
    expect(w.values.map((v) => v.data)).toEqual(Array.from({ length: 2000 }, (_, i) => ({ n: i, data: `m${i}` })));
    expect(w.events).toEqual([{ close: 1000, reason: '' }]);
  });

  it('lets the stage talk to the server from the host, and encodes what the page sends', async () => {
    const task = make().connectSocket({ url: `${server.url}/echo`, pipeline: 'talker', protocols: ['chat'] });
    const w = watch(task);
    await vi.waitFor(() => expect(w.values).toHaveLength(1), WAIT);
    const hello = `hello from the host (${task.socketTaskId}, protocol "chat")`;
    expect(w.values[0]).toEqual({ data: hello });
    // The server says 'ping' (here: the echo of the page's): the stage answers, the page never sees it.
    task.send({ data: 'ping' });
    await vi.waitFor(() => expect(w.values).toHaveLength(2), WAIT);
    expect(w.values[1]).toEqual({ data: 'pong' });
    const cb = callbacks();
    task.send({ data: { subscribe: 'BTCUSDT' }, ...cb });
    await cb.done;
    expect(cb.calls[0]).toEqual({ kind: 'success', result: { errMsg: 'sendSocketMessage:ok' } });
    await vi.waitFor(() => expect(w.values).toHaveLength(3), WAIT);
    expect(w.values[2]).toEqual({ data: 'sent {"subscribe":"BTCUSDT"}' });
    task.close({ code: 4000, reason: 'bye' });
    await w.closed;
    expect(w.values.at(-1)).toEqual({ data: 'closed 4000' });
    expect(await server.lastReceived()).toEqual([hello, 'ping', 'pong', 'sent {"subscribe":"BTCUSDT"}']);
  });

  it('closes the connection from the host with ctx.close(code, reason)', async () => {
    const closes = (await server.closes()).length;
    const task = make().connectSocket({ url: `${server.url}/echo`, pipeline: 'closer' });
    const w = watch(task);
    await record(task).opened;
    task.send({ data: 'hi' });
    task.send({ data: 'bye' }); // echoed: the stage closes on it
    await w.closed;
    expect(w.values).toEqual([{ data: 'hi' }]);
    expect(w.events).toEqual([{ close: 4001, reason: 'the stage said bye' }]);
    await server.closed(closes + 1);
    expect((await server.closes()).at(-1)).toEqual({ code: 4001, reason: 'the stage said bye' });
  });

  it('fails a send the stage cannot encode, and a value that cannot be cloned', async () => {
    const qq = make();
    const upper = qq.connectSocket({ url: `${server.url}/echo`, pipeline: 'upper' });
    const w = watch(upper);
    await record(upper).opened;
    const noSend = callbacks();
    upper.send({ data: { a: 1 }, ...noSend });
    await noSend.done;
    expect(noSend.calls[0]?.result).toEqual({
      errMsg: 'sendSocketMessage:fail pipeline "upper" has no send to encode data that is not a string or ArrayBuffer',
    });
    const bad = qq.connectSocket({ url: `${server.url}/echo`, pipeline: 'badSend' });
    await record(bad).opened;
    const badEncoding = callbacks();
    bad.send({ data: { a: 1 }, ...badEncoding });
    await badEncoding.done;
    expect(badEncoding.calls[0]?.result).toEqual({
      errMsg: 'sendSocketMessage:fail pipeline "badSend" send must return a string or ArrayBuffer',
    });
    const notCloneable = callbacks();
    upper.send({ data: { f: () => 1 }, ...notCloneable });
    await notCloneable.done;
    expect(String(notCloneable.calls[0]?.result.errMsg)).toMatch(/^sendSocketMessage:fail data could not be cloned: /);
    // The tasks are unharmed: text still goes through the stage.
    upper.send({ data: 'still here' });
    await vi.waitFor(() => expect(w.values).toEqual([{ data: 'STILL HERE' }]), WAIT);
  });

  it.each([
    ['throws', 'pipeline "throws" message threw: bad message'],
    ['uncloneable', /^pipeline "uncloneable" message threw: .+/],
  ])('fails the connection with 1007 when the stage %s, and nothing else', async (stage, errMsg) => {
    const qq = make();
    const closes = (await server.closes()).length;
    const task = qq.connectSocket({ url: `${server.url}/echo`, pipeline: stage });
    const w = watch(task);
    await record(task).opened;
    task.send({ data: 'boom' });
    await w.closed;
    expect(w.events).toEqual([{ error: expect.stringMatching(errMsg) }, { close: 1007, reason: '' }]);
    await server.closed(closes + 1);
    // A browser's script may not send 1007: 1000 goes on the wire there, the task hears 1007.
    expect((await server.closes()).at(-1)?.code).toBe(runtime.name === 'browser' ? 1000 : 1007);
    // The host and the instance's other tasks are unharmed.
    const other = qq.connectSocket({ url: `${server.url}/echo`, pipeline: 'upper' });
    const o = watch(other);
    await record(other).opened;
    other.send({ data: 'fine' });
    await vi.waitFor(() => expect(o.values).toEqual([{ data: 'FINE' }]), WAIT);
  });

  it('says when the module does not load or lacks the stage (1006), and refuses a stage without one', async () => {
    const missing = make().connectSocket({ url: `${server.url}/echo`, pipeline: 'nope' });
    const m = watch(missing);
    await m.closed;
    expect(m.events).toEqual([
      { error: `pipeline "nope" not found in ${MODULE.href}` },
      { close: 1006, reason: 'abnormal closure' },
    ]);
    const starts = make().connectSocket({ url: `${server.url}/echo`, pipeline: 'failsToStart' });
    const s = watch(starts);
    await s.closed;
    expect(s.events).toEqual([
      { error: 'pipeline "failsToStart" stage threw: no state for you' },
      { close: 1006, reason: 'abnormal closure' },
    ]);
    const broken = make({ pipeline: BROKEN }).connectSocket({ url: `${server.url}/echo`, pipeline: 'book' });
    const b = watch(broken);
    await b.closed;
    expect(b.events).toEqual([
      { error: `pipeline ${BROKEN.href} failed to load: broken at import` },
      { close: 1006, reason: 'abnormal closure' },
    ]);
    const bare = createQQ({ backend });
    instances.push(bare);
    const refused = callbacks();
    const task = bare.connectSocket({ url: `${server.url}/echo`, pipeline: 'book', ...refused });
    await refused.done;
    expect(refused.calls[0]?.result).toEqual({
      errMsg: 'connectSocket:fail pipeline "book" needs createQQ({ pipeline })',
    });
    expect(task.readyState).toBe(3);
    for (const [pipeline, got] of [
      [42, 'Number'],
      ['', '""'],
    ] as const) {
      const cb = callbacks();
      bare.connectSocket({ url: `${server.url}/echo`, pipeline: pipeline as never, ...cb });
      await cb.done;
      expect(cb.calls[0]?.result.errMsg).toBe(
        `connectSocket:fail parameter error: parameter.pipeline should be a stage name instead of ${got}`,
      );
    }
    const cb = callbacks();
    bare.connectSocket({ url: `${server.url}/echo`, pipeline: 'json', deliver: 'later' as never, ...cb });
    await cb.done;
    expect(cb.calls[0]?.result.errMsg).toBe(
      'connectSocket:fail parameter error: parameter.deliver should be "frame" instead of "later"',
    );
  });
}
