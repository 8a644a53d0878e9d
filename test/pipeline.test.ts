/**
 * Pipelines on both Node backends: the shared suite (conformance/pipelines.ts), and what only
 * Node shows: a page stalled on its first value while the `thread` host reads on (the latest per
 * key, `skipped` exact, no backlog), flow control for unkeyed values, a stage across reconnects,
 * a transferred ArrayBuffer, and createQQ's check of the module option.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createQQ, type QQ, type QQOptions } from 'qq-socket-worker';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { HIGH_WATER_ITEMS } from '../src/worker/flow-control.js';
import { expectWholeBook, type Got, MODULE, pipelineSuite, watch } from './conformance/pipelines.js';
import { nodeRuntime } from './helpers/node-peers.js';
import { WAIT } from './helpers/record.js';
import { type PythonServer, startPythonServer, startWsServer, type TestServer } from './helpers/servers.js';

let server: TestServer;
let python: PythonServer;
let scratch: string;
beforeAll(async () => {
  [server, python] = await Promise.all([startWsServer(), startPythonServer()]);
  scratch = mkdtempSync(join(tmpdir(), 'qq-pipeline-'));
});
afterAll(async () => {
  await Promise.all([server.close(), python.close()]);
  rmSync(scratch, { recursive: true, force: true });
});

describe.each(['inline', 'thread'] as const)('pipelines (%s)', (backend) => {
  pipelineSuite(backend, nodeRuntime);
});

describe.each(['inline', 'thread'] as const)('pipelines in Node (%s)', (backend) => {
  const instances: QQ[] = [];
  const make = (options: QQOptions = {}) => {
    const qq = createQQ({ backend, pipeline: MODULE, ...options });
    instances.push(qq);
    return qq;
  };
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((qq) => qq.destroy()));
    vi.restoreAllMocks();
  });

  it('filters in the host and delivers the latest value per key, with skipped exact, none lost', async () => {
    const marker = join(scratch, `book-${backend}`);
    const n = 3000;
    const keys = 7;
    const qq = make();
    const task = qq.connectSocket({
      url: `${python.url}/book/${n}/${keys}?marker=${encodeURIComponent(marker)}`,
      pipeline: 'book',
    });
    const w = watch(task);
    let first = true;
    task.onMessage(() => {
      if (!first) return;
      first = false;
      // A page stalled on its first value until the stage has seen every message (the thread
      // backend's host goes on meanwhile; `inline`'s is this thread, so it cannot).
      if (backend === 'thread') {
        while (!existsSync(marker));
      }
    });
    await vi.waitFor(() => expect(w.values.at(-1)).toEqual({ data: { done: true } }), WAIT);
    expectWholeBook(w.values, n, keys);
    if (backend === 'thread') {
      // The stalled page got the latest per key, not a backlog.
      expect(w.values.length).toBeLessThan(2 * keys + 2);
      expect(w.values.some((v) => (v.skipped as number) > 0)).toBe(true);
    }
    expect(w.events).toEqual([]);
  });

  it('keeps flow control for unkeyed values: a slow page pauses the socket, and loses nothing', async () => {
    const qq = make();
    const n = 40_000;
    // On `thread` the host reads on while this thread is busy. The page stalls on its first value
    // until the stage has emitted one value past the window (nothing credited meanwhile), so the
    // window must engage, however fast this machine or the server. `inline`'s host is this thread:
    // it cannot read while the page stalls, so there the page only runs slowly.
    const marker = join(scratch, `numbered-${backend}`);
    const markAt = HIGH_WATER_ITEMS + 1;
    const task = qq.connectSocket({
      url: `${python.url}/burst/${n}?marker=${encodeURIComponent(marker)}&markAt=${markAt}`,
      pipeline: 'numbered',
    });
    let next = 0;
    let outOfOrder = 0;
    task.onMessage(({ data }) => {
      if ((data as { n: number }).n !== next++) outOfOrder++;
      if (next === 1 && backend === 'thread') {
        while (!existsSync(marker));
      }
      const until = performance.now() + 0.02; // a page slower than the feed, most of the time
      while (performance.now() < until);
    });
    await vi.waitFor(() => expect(next).toBe(n), WAIT);
    expect(outOfOrder).toBe(0);
    if (backend === 'thread') expect((await qq.stats()).host?.pauses).toBeGreaterThan(0);
    task.close();
  });

  it.runIf(backend === 'thread')(
    "holds an unkeyed value behind a keyed batch the page has not taken, with deliver: 'frame'",
    async () => {
      // The page stalls on the keyed value until the stage has emitted an unkeyed one after it,
      // and sets a timer: the page asks for the next batch after a timer turn (no animation
      // frames here), so with one batch a frame the unkeyed value comes after that timer. (Without
      // `deliver`, an unkeyed value flows at once, as messages do.)
      const marker = join(scratch, 'keyed-then-later');
      const qq = make();
      const task = qq.connectSocket({
        url: `${server.url}/echo?marker=${encodeURIComponent(marker)}`,
        pipeline: 'keyedThenLater',
        deliver: 'frame',
      });
      const order: string[] = [];
      task.onOpen(() => task.send({ data: 'k' }));
      task.onMessage(({ data }) => {
        order.push(data as string);
        if (data !== 'k') return;
        while (!existsSync(marker));
        setTimeout(() => order.push('a timer turn'), 0);
      });
      await vi.waitFor(() => expect(order).toHaveLength(3), WAIT);
      expect(order).toEqual(['k', 'a timer turn', 'k later']);
    },
  );

  it("credits a closed task's unkeyed values back to the host's window (deliver: 'frame')", async () => {
    // Unkeyed values count in the host's window until the page says it took them. With 'frame'
    // they wait in the host for the page's took, and the close brings the last of them in its
    // own batch: the page of a closed task never says it took those, and the host must credit
    // them itself. (The page's took is what credits the others: see the flow-control test.)
    const qq = make();
    for (let i = 0; i < 3; i++) {
      const task = qq.connectSocket({ url: `${server.url}/burst/50/1000`, pipeline: 'upper', deliver: 'frame' });
      const w = watch(task);
      await w.closed;
      expect(w.values).toHaveLength(50);
      expect(w.values.at(-1)).toEqual({ data: 'M49' });
      expect(w.events).toEqual([{ close: 1000, reason: '' }]);
    }
    expect((await qq.stats()).host).toMatchObject({ sockets: 0, inFlightMessages: 0 });
  });

  it('keeps the stage across reconnects: its close and open run for each connection', async () => {
    const qq = make();
    const task = qq.connectSocket({
      url: `${server.url}/echo`,
      pipeline: 'talker',
      reconnect: { minDelay: 1, maxDelay: 1, jitter: 0 },
    });
    const w = watch(task);
    await vi.waitFor(() => expect(w.values).toHaveLength(1), WAIT);
    server.dropAll();
    // The stage hears the loss, and greets the server again from the host on the new connection
    // (as a stage would resubscribe), without the page.
    await vi.waitFor(() => expect(w.values).toHaveLength(3), WAIT);
    const hello = `hello from the host (${task.socketTaskId}, protocol "")`;
    expect(w.values).toEqual([{ data: hello }, { data: 'closed 1006' }, { data: hello }]);
    expect(server.log.received.at(-1)).toEqual([hello]);
  });

  it('moves an ArrayBuffer a value carries when the stage says so', async () => {
    const qq = make();
    const task = qq.connectSocket({ url: `${server.url}/bytes/70000`, pipeline: 'bytes' });
    const w = watch(task);
    await vi.waitFor(() => expect(w.values).toHaveLength(1), WAIT);
    const { data } = (w.values[0] as Got).data as { data: ArrayBuffer };
    expect(data.byteLength).toBe(70_000);
    expect(new Uint8Array(data)[69_999]).toBe(69_999 & 0xff);
  });

  it('refuses a module option that is not a file: URL or a path', () => {
    expect(() => createQQ({ backend, pipeline: 42 as never })).toThrow(
      new TypeError('createQQ: options.pipeline must be a file: URL or a path'),
    );
  });
});
