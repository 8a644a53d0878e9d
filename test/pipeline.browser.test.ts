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

function watch(task: SocketTask<unknown, unknown>) {
  const values: unknown[] = [];
  const events: unknown[] = [];
  task.onMessage(({ data, key, skipped }) => values.push(key === undefined ? data : { data, key, skipped }));
  task.onError(({ errMsg }) => events.push({ error: errMsg }));
  task.onClose(({ code, reason }) => events.push({ close: code, reason }));
  return { values, events };
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

  it('says when the stage is not in the module', async () => {
    const task = make().connectSocket({ url: `${server.url}/echo`, pipeline: 'nope' });
    const w = watch(task);
    await vi.waitFor(() => expect(w.events).toHaveLength(2), WAIT);
    expect(w.events).toEqual([
      { error: `pipeline "nope" not found in ${MODULE.href}` },
      { close: 1006, reason: 'abnormal closure' },
    ]);
  });
});
