/**
 * A host you can see into (issue 21), on both Node backends: `createQQ({ log })` entries, exact,
 * never carrying a token (a header's value, a url's user, password or query), to a function or
 * the console at a level; and `qq.stats()` counters after known traffic.
 */
import { createQQ, type LogEntry, type QQ, type QQOptions, type SocketTask } from 'qq-socket-worker';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { record, WAIT } from './helpers/record.js';
import { startWsServer, type TestServer } from './helpers/servers.js';

const SECRET = 'sk-live-0b5e2a';

let server: TestServer;
let port: number;
beforeAll(async () => {
  server = await startWsServer();
  port = server.port;
});
afterAll(async () => {
  await server.close();
});

/** An entry without its time (checked apart: a number of epoch ms). */
const untimed = ({ time, ...rest }: LogEntry) => {
  expect(time).toBeGreaterThan(Date.UTC(2020, 0));
  return rest;
};

describe.each(['inline', 'thread'] as const)('log and stats (%s)', (backend) => {
  const instances: QQ[] = [];
  const make = (options: QQOptions = {}) => {
    const qq = createQQ({ backend, ...options });
    instances.push(qq);
    return qq;
  };
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((qq) => qq.destroy()));
    vi.restoreAllMocks();
  });

  it('gives a log function every entry, with no header value, url user, password or query', async () => {
    const entries: LogEntry[] = [];
    const qq = make({ log: (entry) => entries.push(entry) });
    const url = `ws://user:${SECRET}@127.0.0.1:${port}/echo?token=${SECRET}`;
    const task = qq.connectSocket({ url, header: { authorization: `Bearer ${SECRET}` }, protocols: ['chat'] });
    const rec = record(task);
    await rec.opened;
    task.close({ code: 4000, reason: 'bye' });
    await rec.closed;
    const dropped = qq.connectSocket({ url: `ws://127.0.0.1:${port}/drop?key=${SECRET}` });
    await record(dropped).closed;
    const id = task.socketTaskId;
    const other = dropped.socketTaskId;
    expect(entries.map(untimed)).toEqual([
      { level: 'info', socketTaskId: id, event: 'connect', message: `connect ws://127.0.0.1:${port}/echo?…` },
      { level: 'info', socketTaskId: id, event: 'open', message: `open ws://127.0.0.1:${port}/echo?… (protocol chat)` },
      { level: 'info', socketTaskId: id, event: 'close', message: 'close 4000 bye' },
      { level: 'info', socketTaskId: other, event: 'connect', message: `connect ws://127.0.0.1:${port}/drop?…` },
      { level: 'info', socketTaskId: other, event: 'open', message: `open ws://127.0.0.1:${port}/drop?…` },
      {
        level: 'info',
        socketTaskId: other,
        event: 'error',
        message: 'error: connection closed without a close frame',
      },
      { level: 'info', socketTaskId: other, event: 'close', message: 'close 1006 abnormal closure' },
    ]);
    expect(JSON.stringify(entries)).not.toContain(SECRET);
    // In time order, each after the one before.
    const times = entries.map((e) => e.time);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('writes entries of the chosen level and above to the console, and none by default', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => {});
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {});
    const quiet = make();
    const rec = record(quiet.connectSocket({ url: `ws://127.0.0.1:${port}/close/1000/done` }));
    await rec.closed;
    expect([info.mock.calls, debug.mock.calls]).toEqual([[], []]);
    const loud = make({ log: 'info' });
    const task = loud.connectSocket({ url: `ws://127.0.0.1:${port}/close/1000/done` });
    await record(task).closed;
    const lines = info.mock.calls.map(([line]) => String(line));
    const prefix = /^qq-socket-worker \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z task (\d+): /;
    expect(lines.map((line) => line.replace(prefix, 'task $1: '))).toEqual([
      `task ${task.socketTaskId}: connect ws://127.0.0.1:${port}/close/1000/done`,
      `task ${task.socketTaskId}: open ws://127.0.0.1:${port}/close/1000/done`,
      `task ${task.socketTaskId}: close 1000 done`,
    ]);
    expect(debug).not.toHaveBeenCalled();
  });

  it('refuses a log option that is neither a level nor a function', () => {
    for (const log of ['verbose', 1, {}]) {
      expect(() => createQQ({ backend, log: log as never })).toThrow(
        new TypeError("createQQ: options.log must be 'debug', 'info' or 'warn', or a function"),
      );
    }
  });

  it('logs each attempt of a task with a url function, its retries and opens, with no token in any', async () => {
    const entries: LogEntry[] = [];
    const qq = make({ log: (entry) => entries.push(entry) });
    const secret = `ws://user:${SECRET}@127.0.0.1:${port}/echo?token=${SECRET}`;
    let calls = 0;
    // The first answer is refused (a fragment), and its errMsg names the url.
    const task = qq.connectSocket({
      url: () => (++calls === 1 ? `${secret}#x` : secret),
      reconnect: { minDelay: 1, maxDelay: 1, jitter: 0 },
    });
    const rec = record(task);
    await rec.opened;
    server.dropAll();
    await vi.waitFor(() => expect(entries.filter((e) => e.event === 'open')).toHaveLength(2), WAIT);
    task.close();
    await rec.closed;
    // One that gives up says why in its error entry, redacted as well.
    const failing = qq.connectSocket({ url: () => `${secret}#x`, reconnect: { retries: 0 } });
    await record(failing).closed;
    const id = task.socketTaskId;
    const clean = `ws://127.0.0.1:${port}/echo?…`;
    const invalid = `connectSocket:fail invalid url "${clean}"`;
    expect(entries.map(untimed)).toEqual([
      { level: 'info', socketTaskId: id, event: 'reconnect', message: `retry 1 in 1 ms: 1006 ${invalid}` },
      { level: 'info', socketTaskId: id, event: 'connect', message: `connect ${clean}` },
      { level: 'info', socketTaskId: id, event: 'open', message: `open ${clean} (retry 1)` },
      {
        level: 'info',
        socketTaskId: id,
        event: 'reconnect',
        message: 'retry 1 in 1 ms: 1006 connection closed without a close frame',
      },
      { level: 'info', socketTaskId: id, event: 'connect', message: `connect ${clean}` },
      { level: 'info', socketTaskId: id, event: 'open', message: `open ${clean} (retry 1)` },
      { level: 'info', socketTaskId: id, event: 'close', message: 'close 1000' },
      {
        level: 'info',
        socketTaskId: failing.socketTaskId,
        event: 'error',
        message: `error: reconnect gave up after 0 attempts: ${invalid}`,
      },
      { level: 'info', socketTaskId: failing.socketTaskId, event: 'close', message: 'close 1006 abnormal closure' },
    ]);
    expect(JSON.stringify(entries)).not.toContain(SECRET);
  });

  it('counts the sends that wait for a connection, and the url of the latest attempt', async () => {
    const qq = make();
    let release = () => {};
    const answered = new Promise<void>((resolve) => {
      release = resolve;
    });
    const task = qq.connectSocket({
      url: async () => {
        await answered;
        return `ws://127.0.0.1:${port}/echo?token=${SECRET}`;
      },
      reconnect: true,
    });
    const rec = record(task);
    task.send({ data: 'héllo' });
    task.send({ data: new Uint8Array(4) });
    expect(task.url).toBe('');
    expect((await qq.stats()).tasks).toEqual([
      {
        socketTaskId: task.socketTaskId,
        url: '',
        readyState: 0,
        messagesIn: 0,
        bytesIn: 0,
        messagesOut: 0,
        bytesOut: 0,
        sendsWaiting: 2,
        bufferedAmount: 10,
        pausedMs: 0,
        holders: 1,
      },
    ]);
    release();
    await rec.messages(2);
    expect(task.url).toBe(`ws://127.0.0.1:${port}/echo?token=${SECRET}`);
    expect((await qq.stats()).tasks).toMatchObject([
      { url: `ws://127.0.0.1:${port}/echo?…`, readyState: 1, messagesOut: 2, bytesOut: 10, sendsWaiting: 0 },
    ]);
  });

  it('counts messages and bytes both ways, sends waiting, and the host', async () => {
    const qq = make();
    expect(await qq.stats()).toEqual({ host: undefined, tasks: [] });
    const task: SocketTask = qq.connectSocket({ url: `ws://127.0.0.1:${port}/echo?token=${SECRET}` });
    const rec = record(task);
    await rec.opened;
    task.send({ data: 'héllo' }); // 6 UTF-8 bytes, 5 UTF-16 code units
    task.send({ data: new Uint8Array(10).buffer });
    await rec.messages(2);
    // The credit of what was dispatched goes back at the end of the turn: wait for it.
    let stats = await qq.stats();
    await vi.waitFor(async () => {
      stats = await qq.stats();
      expect(stats.host?.inFlightMessages).toBe(0);
    }, WAIT);
    expect(stats.tasks).toEqual([
      {
        socketTaskId: task.socketTaskId,
        url: `ws://127.0.0.1:${port}/echo?…`,
        readyState: 1,
        messagesIn: 2,
        bytesIn: 15,
        messagesOut: 2,
        bytesOut: 16,
        sendsWaiting: 0,
        bufferedAmount: 0,
        pausedMs: 0,
        holders: 1,
      },
    ]);
    expect(stats.host).toMatchObject({ sockets: 1, inFlightBytes: 0, inFlightMessages: 0, pauses: 0, resumes: 0 });
    expect(stats.host?.batchesOut).toBeGreaterThanOrEqual(2); // the open, then the echoes
    expect(stats.host?.batchesIn).toBeGreaterThanOrEqual(2); // the connect, then the sends
    task.close();
    await rec.closed;
    expect((await qq.stats()).tasks).toEqual([]);
  });
});

describe('flow control in the log and stats (thread)', () => {
  it('tells when a socket pauses for a page behind and resumes, and counts the time paused', async () => {
    const entries: LogEntry[] = [];
    const qq = createQQ({ backend: 'thread', log: (entry) => entries.push(entry) });
    try {
      const task = qq.connectSocket({ url: `ws://127.0.0.1:${port}/burst/60000/1000` });
      // A handler that takes its time until the host has paused the socket for it.
      let slow = true;
      let got = 0;
      task.onMessage(() => {
        got++;
        if (!slow) return;
        const until = performance.now() + 0.05;
        while (performance.now() < until);
        if (entries.some((e) => e.event === 'pause')) slow = false;
      });
      await record(task).closed;
      expect(got).toBe(60_000);
      const flow = entries.filter((e) => e.event === 'pause' || e.event === 'resume').map(untimed);
      expect(flow.length).toBeGreaterThanOrEqual(2);
      expect(flow[0]).toEqual({
        level: 'debug',
        socketTaskId: task.socketTaskId,
        event: 'pause',
        message: 'paused reading: the page is behind',
      });
      expect(flow[1]).toMatchObject({ level: 'debug', event: 'resume' });
      expect(flow[1]?.message).toMatch(/^resumed reading after \d+ ms$/);
    } finally {
      await qq.destroy();
    }
  });

  it('reports the time paused in stats while the page is behind', async () => {
    const qq = createQQ({ backend: 'thread' });
    try {
      const task = qq.connectSocket({ url: `ws://127.0.0.1:${port}/burst/60000/1000` });
      let release = false;
      task.onMessage(() => {
        if (release) return;
        const until = performance.now() + 0.05;
        while (performance.now() < until);
      });
      // Two looks in one pause under way (as many pauses and resumes, one more pause than
      // resumes, some time apart): the time paused grew between them.
      let before: { pauses: number; resumes: number; pausedMs: number; at: number } | undefined;
      let during: { first: number; second: number } | undefined;
      await vi.waitFor(async () => {
        const stats = await qq.stats();
        const now = {
          pauses: stats.host?.pauses ?? 0,
          resumes: stats.host?.resumes ?? 0,
          pausedMs: stats.tasks[0]?.pausedMs ?? 0,
          at: performance.now(),
        };
        const same = before !== undefined && before.pauses === now.pauses && before.resumes === now.resumes;
        if (same && now.pauses > now.resumes && now.at - (before?.at ?? 0) >= 20) {
          during = { first: before?.pausedMs ?? 0, second: now.pausedMs };
        } else before = now;
        expect(during).toBeDefined();
      }, WAIT);
      expect(during?.second).toBeGreaterThan(during?.first ?? 0);
      release = true;
      await record(task).closed;
    } finally {
      await qq.destroy();
    }
  });
});
