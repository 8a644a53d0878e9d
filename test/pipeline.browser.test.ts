/**
 * Pipelines (issue 22) in Chromium on every browser backend: the fixture module's stages run in
 * the Web Worker, the SharedWorker or this thread (`inline`); what they emit is what the page
 * gets, with the same errMsgs and close codes as on Node.
 */
import { createQQ, type QQ, type QQOptions, type SocketTask } from 'qq-socket-worker';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { browserPeers } from './helpers/browser-peers.js';
import type { PeerServer } from './helpers/peers.js';
import { callbacks, record, WAIT } from './helpers/record.js';

const MODULE = new URL('./fixtures/feed.pipeline.mjs', import.meta.url);
const BROKEN = new URL('./fixtures/broken.pipeline.mjs', import.meta.url);

function watch(task: SocketTask<unknown, unknown>) {
  const values: unknown[] = [];
  const events: unknown[] = [];
  task.onMessage(({ data, key, skipped }) => values.push(key === undefined ? data : { data, key, skipped }));
  task.onError(({ errMsg }) => events.push({ error: errMsg }));
  task.onClose(({ code, reason }) => events.push({ close: code, reason }));
  const closed = new Promise<void>((resolve) => task.onClose(() => resolve()));
  return { values, events, closed };
}

describe.each(['worker', 'shared', 'inline'] as const)('pipelines (%s, Chromium)', (backend) => {
  let server: PeerServer;
  const instances: QQ[] = [];
  const make = (options: QQOptions = {}) => {
    const qq = createQQ({ backend, pipeline: MODULE, ...options });
    instances.push(qq);
    return qq;
  };
  beforeAll(async () => {
    server = await browserPeers.start();
  });
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((qq) => qq.destroy()));
  });
  afterAll(async () => {
    await server.close();
  });

  it("parses JSON in the host with 'json', and stringifies a value sent", async () => {
    const task = make().connectSocket({ url: `${server.url}/echo`, pipeline: 'json' });
    const w = watch(task);
    await record(task).opened;
    task.send({ data: { order: 1 } });
    await vi.waitFor(() => expect(w.values).toEqual([{ order: 1 }]), WAIT);
    expect(await server.lastReceived()).toEqual(['{"order":1}']);
  });

  it('filters and keys an order book: the latest per key, skipped exact', async () => {
    const n = 2000;
    const keys = 5;
    const task = make().connectSocket({ url: `${server.url}/book/${n}/${keys}`, pipeline: 'book' });
    const w = watch(task);
    await vi.waitFor(() => expect(w.values.at(-1)).toEqual({ done: true }), WAIT);
    const keyed = w.values as Array<{ data: { s: string; u: number }; key: string; skipped: number }>;
    for (let k = 0; k < keys; k++) {
      const mine = keyed.filter((v) => v.key === `S${k}`);
      const sent = Array.from({ length: n }, (_, i) => i).filter((i) => i % keys === k);
      expect(mine.reduce((sum, v) => sum + 1 + v.skipped, 0)).toBe(sent.length);
      expect(mine.at(-1)?.data).toEqual({ s: `S${k}`, u: sent.at(-1) });
    }
    expect(w.events).toEqual([]);
  });

  it('talks to the server from the host, and fails with 1007 when a stage throws', async () => {
    const qq = make();
    const talker = qq.connectSocket({ url: `${server.url}/echo`, pipeline: 'talker' });
    const t = watch(talker);
    await vi.waitFor(() => expect(t.values).toHaveLength(1), WAIT);
    expect(String(t.values[0])).toMatch(/^hello from the host \(\d+, protocol ""\)$/);
    talker.send({ data: 'ping' });
    await vi.waitFor(() => expect(t.values).toEqual([t.values[0], 'pong']), WAIT);
    const throws = qq.connectSocket({ url: `${server.url}/echo`, pipeline: 'throws' });
    const w = watch(throws);
    await record(throws).opened;
    throws.send({ data: 'boom' });
    await vi.waitFor(() => expect(w.events).toHaveLength(2), WAIT);
    // A script may not send 1007: 1000 goes on the wire, the task hears 1007.
    expect(w.events).toEqual([{ error: 'pipeline "throws" message threw: bad message' }, { close: 1007, reason: '' }]);
    const cb = callbacks();
    talker.send({ data: { still: 'here' }, ...cb });
    await cb.done;
    expect(cb.calls[0]?.result).toEqual({ errMsg: 'sendSocketMessage:ok' });
  });

  it('delivers unkeyed values every one, in order', async () => {
    const task = make().connectSocket({ url: `${server.url}/burst/2000/1000`, pipeline: 'numbered' });
    const w = watch(task);
    await w.closed;
    expect(w.values).toEqual(Array.from({ length: 2000 }, (_, i) => ({ n: i, data: `m${i}` })));
    expect(w.events).toEqual([{ close: 1000, reason: '' }]);
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
    upper.send({ data: 'still here' });
    await vi.waitFor(() => expect(w.values).toEqual(['STILL HERE']), WAIT);
  });

  it('fails the connection with 1007 when a value cannot be cloned, and the other tasks go on', async () => {
    const qq = make();
    const task = qq.connectSocket({ url: `${server.url}/echo`, pipeline: 'uncloneable' });
    const w = watch(task);
    await record(task).opened;
    task.send({ data: 'boom' });
    await w.closed;
    expect(w.events).toEqual([
      { error: expect.stringMatching(/^pipeline "uncloneable" message threw: .+/) },
      { close: 1007, reason: '' },
    ]);
    const other = qq.connectSocket({ url: `${server.url}/echo`, pipeline: 'upper' });
    const o = watch(other);
    await record(other).opened;
    other.send({ data: 'fine' });
    await vi.waitFor(() => expect(o.values).toEqual(['FINE']), WAIT);
  });

  it('says when the module does not load, or lacks the stage, or its stage throws (1006), and refuses a stage without one', async () => {
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
  });
});
