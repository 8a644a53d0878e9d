/**
 * Staying connected (issue 19) and seeing into the host (issue 21) in Chromium, on every browser
 * backend: keepalive's message probes (a browser cannot send a ping), reconnect after a drop,
 * the host's log entries and qq.stats(), from a Web Worker, a SharedWorker and this thread.
 */
import { createQQ, type LogEntry, type QQ, type QQOptions, type SocketTask } from 'qq-socket-worker';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { browserPeers } from './helpers/browser-peers.js';
import type { PeerServer } from './helpers/peers.js';
import { record, WAIT } from './helpers/record.js';

/** What a task heard, in order, reconnects included. */
function watch(task: SocketTask) {
  const events: Array<Record<string, unknown>> = [];
  task.onOpen(({ reconnected, attempt }) =>
    events.push({ event: 'open', ...(reconnected ? { reconnected } : {}), ...(attempt ? { attempt } : {}) }),
  );
  task.onMessage(({ data }) => events.push({ event: 'message', data }));
  task.onReconnect((r) => events.push({ event: 'reconnect', ...r }));
  task.onError(({ errMsg }) => events.push({ event: 'error', errMsg }));
  task.onClose(({ code, reason }) => events.push({ event: 'close', code, reason }));
  const count = (name: string) => events.filter((e) => e.event === name).length;
  return {
    events,
    count,
    until: (name: string, n = 1) => vi.waitFor(() => expect(count(name)).toBeGreaterThanOrEqual(n), WAIT),
  };
}

describe.each(['worker', 'shared', 'inline'] as const)('staying connected, seeing in (%s, Chromium)', (backend) => {
  let server: PeerServer;
  const instances: QQ[] = [];
  const make = (options: QQOptions = {}) => {
    const qq = createQQ({ backend, ...options });
    instances.push(qq);
    return qq;
  };
  beforeAll(async () => {
    server = await browserPeers.start();
  });
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((qq) => qq.destroy()));
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await server.close();
  });

  it('probes with the keepalive message: keeps a server that answers, drops one that does not', async () => {
    const qq = make();
    const alive = watch(
      qq.connectSocket({ url: `${server.url}/echo`, keepalive: { interval: 100, timeout: 1500, message: 'ping' } }),
    );
    // Every probe is answered (echoed): the app sees the answers, and nothing else happens. A
    // timeout a busy machine's echo cannot overrun (300 ms did, beside a CPU hog), and answers
    // for longer than one interval and timeout: had they not counted, the socket would be gone.
    await vi.waitFor(() => expect(alive.count('message')).toBeGreaterThanOrEqual(20), WAIT);
    expect(alive.events.filter((e) => e.event !== 'message')).toEqual([{ event: 'open' }]);
    expect(new Set(alive.events.filter((e) => e.event === 'message').map((e) => e.data))).toEqual(new Set(['ping']));
    // A server that reads the probes and never answers.
    const silent = qq.connectSocket({
      url: `${server.url}/sink`,
      keepalive: { interval: 100, timeout: 100, message: 'ping' },
    });
    const dead = watch(silent);
    await dead.until('close');
    expect(dead.events.map((e) => e.event)).toEqual(['open', 'error', 'close']);
    expect(dead.events[1]?.errMsg).toMatch(/^keepalive timeout: no frame from the server for \d+ ms$/);
    expect(dead.events[2]).toEqual({ event: 'close', code: 1006, reason: 'abnormal closure' });
    expect(await server.lastReceived()).toContain('ping');
  });

  it('warns once that a browser cannot ping, and then watches only for messages', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const qq = make();
    const quiet = watch(qq.connectSocket({ url: `${server.url}/sink`, keepalive: { interval: 100, timeout: 100 } }));
    qq.connectSocket({ url: `${server.url}/sink`, keepalive: true }).close();
    await quiet.until('close');
    expect(quiet.events.map((e) => e.event)).toEqual(['open', 'error', 'close']);
    expect(warn.mock.calls).toEqual([
      [
        'qq-socket-worker: browsers cannot send a ping; keepalive without message watches only for messages from the server',
      ],
    ]);
  });

  it('reconnects when the server drops the connection; a send made meanwhile goes out after', async () => {
    const qq = make();
    const task = qq.connectSocket({ url: `${server.url}/echo`, reconnect: { minDelay: 1, maxDelay: 1, jitter: 0 } });
    const w = watch(task);
    await w.until('open');
    const accepted = await server.acceptedCount();
    await server.dropAll();
    await w.until('reconnect');
    task.send({ data: 'sent while CONNECTING, or after' });
    await w.until('open', 2);
    await w.until('message');
    expect(w.events).toEqual([
      { event: 'open' },
      {
        event: 'reconnect',
        attempt: 1,
        delay: 1,
        code: 1006,
        reason: 'abnormal closure',
        errMsg: 'connection closed without a close frame',
      },
      { event: 'open', reconnected: true, attempt: 1 },
      { event: 'message', data: 'sent while CONNECTING, or after' },
    ]);
    expect(await server.acceptedCount()).toBe(accepted + 1);
  });

  it('logs exact entries from the host, and counts in qq.stats()', async () => {
    const entries: LogEntry[] = [];
    const qq = make({ log: (entry) => entries.push(entry) });
    expect(await qq.stats()).toEqual({ host: undefined, tasks: [] });
    const url = `${server.url}/echo?token=secret-token`;
    const task = qq.connectSocket({ url });
    const rec = record(task);
    await rec.opened;
    task.send({ data: 'héllo' });
    await rec.messages(1);
    let stats = await qq.stats();
    await vi.waitFor(async () => {
      stats = await qq.stats();
      expect(stats.host?.inFlightMessages).toBe(0);
      // What the browser's WebSocket held is asked for again every 10 ms.
      expect(stats.tasks[0]?.bufferedAmount).toBe(0);
    }, WAIT);
    const clean = `${server.url}/echo?…`;
    expect(stats.tasks).toEqual([
      {
        socketTaskId: task.socketTaskId,
        url: clean,
        readyState: 1,
        messagesIn: 1,
        bytesIn: 5,
        messagesOut: 1,
        bytesOut: 6,
        sendsWaiting: 0,
        bufferedAmount: 0,
        pausedMs: 0,
        holders: 1,
      },
    ]);
    task.close({ code: 4000, reason: 'bye' });
    await rec.closed;
    const id = task.socketTaskId;
    expect(entries.map(({ time, ...entry }) => entry)).toEqual([
      { level: 'info', socketTaskId: id, event: 'connect', message: `connect ${clean}` },
      { level: 'info', socketTaskId: id, event: 'open', message: `open ${clean}` },
      { level: 'info', socketTaskId: id, event: 'close', message: 'close 4000 bye' },
    ]);
    expect(JSON.stringify(entries)).not.toContain('secret-token');
  });
});
