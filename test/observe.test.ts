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
      let paused = 0;
      task.onMessage(() => {
        if (release) return;
        const until = performance.now() + 0.05;
        while (performance.now() < until);
      });
      await vi.waitFor(async () => {
        paused = (await qq.stats()).tasks[0]?.pausedMs ?? 0;
        expect(paused).toBeGreaterThan(0);
      }, WAIT);
      release = true;
      await record(task).closed;
    } finally {
      await qq.destroy();
    }
  });
});
