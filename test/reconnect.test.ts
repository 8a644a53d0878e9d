/**
 * Connections that stay up (issue 19), on both Node backends, against real servers that stop,
 * start again on the same port, refuse, close with final codes, or go silent: reconnect with
 * backoff, the send queue, credentials per attempt, keepalive, and a host that dies.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createQQ, type QQ, type QQOptions, type SocketTask } from 'qq-socket-worker';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { HIGH_WATER_ITEMS } from '../src/worker/flow-control.js';
import { MODULE } from './conformance/pipelines.js';
import { callbacks, settle, WAIT } from './helpers/record.js';
import { closedPort, startPythonServer, startWsServer, type TestServer } from './helpers/servers.js';

type Event =
  | { event: 'open'; reconnected?: boolean; attempt?: number }
  | { event: 'message'; data: unknown }
  | { event: 'reconnect'; attempt: number; delay: number; code: number; reason: string; errMsg: string }
  | { event: 'error'; errMsg: string }
  | { event: 'close'; code: number; reason: string };

/** Every event of a task, in order, with waits on them. */
function watch(task: SocketTask<unknown, unknown>) {
  const events: Event[] = [];
  task.onOpen((r) => {
    const { reconnected, attempt } = r as { reconnected?: boolean; attempt?: number };
    events.push({
      event: 'open',
      ...(reconnected === undefined ? {} : { reconnected }),
      ...(attempt === undefined ? {} : { attempt }),
    });
  });
  task.onMessage(({ data }) => events.push({ event: 'message', data }));
  task.onReconnect((r) => events.push({ event: 'reconnect', ...r }));
  task.onError(({ errMsg }) => events.push({ event: 'error', errMsg }));
  task.onClose(({ code, reason }) => events.push({ event: 'close', code, reason }));
  const count = (name: Event['event']) => events.filter((e) => e.event === name).length;
  return {
    events,
    count,
    /** Resolves once `n` events named `name` happened. */
    until: (name: Event['event'], n = 1) => vi.waitFor(() => expect(count(name)).toBeGreaterThanOrEqual(n), WAIT),
    without: (name: Event['event']) => events.filter((e) => e.event !== name),
  };
}

/** A gate: `wait()` resolves once `open()` was called. */
function gate() {
  let release = () => {};
  let promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    wait: () => promise,
    open: () => release(),
    close: () => {
      promise = new Promise<void>((resolve) => {
        release = resolve;
      });
    },
  };
}

/** No wait between attempts, no jitter: the tests drive the timing with gates. */
const FAST = { minDelay: 1, maxDelay: 1, jitter: 0 };

describe.each(['inline', 'thread'] as const)('reconnect (%s)', (backend) => {
  const instances: QQ[] = [];
  const servers: TestServer[] = [];
  const make = (options: QQOptions = {}) => {
    const qq = createQQ({ backend, ...options });
    instances.push(qq);
    return qq;
  };
  const serve = async (options: Parameters<typeof startWsServer>[0] = {}) => {
    const server = await startWsServer(options);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((qq) => qq.destroy()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('carries a numbered stream through a server stopped and started again: in order, none twice', async () => {
    let server = await serve();
    const { port } = server;
    const qq = make();
    const task = qq.connectSocket({ url: `${server.url}/echo`, reconnect: { minDelay: 20, maxDelay: 100 } });
    const w = watch(task);
    const n = 10_000;
    const outcome: Array<'ok' | string> = [];
    let sent = 0;
    const sendSome = (k: number) => {
      for (let i = 0; i < k && sent < n; i++, sent++) {
        const index = sent;
        task.send({
          data: `m${index}`,
          success: () => {
            outcome[index] = 'ok';
          },
          fail: ({ errMsg }) => {
            outcome[index] = errMsg;
          },
        });
      }
    };
    const received: string[] = [];
    const restart = async () => {
      await server.close(); // every connection dropped, then the port is free
      for (const m of server.log.received.flat()) received.push(String(m));
      server = await serve({ port });
    };
    // Sends before the first open wait for it; then batches through three restarts.
    sendSome(500);
    await w.until('open');
    for (let round = 1; round <= 3; round++) {
      sendSome(2000);
      await restart();
      sendSome(500); // while the connection is down: they wait
      await w.until('open', round + 1);
    }
    sendSome(n);
    await vi.waitFor(() => expect(outcome.filter((o) => o !== undefined).length).toBe(n), WAIT);
    await vi.waitFor(() => expect(server.log.received.flat().at(-1)).toBe(`m${n - 1}`), WAIT);
    for (const m of server.log.received.flat()) received.push(String(m));
    const indices = received.map((m) => Number(m.slice(1)));
    // In order, none twice: each connection's messages follow the last connection's.
    expect(indices.every((v, i) => i === 0 || v > (indices[i - 1] as number))).toBe(true);
    // What the server got was acknowledged; what failed was handed to a connection that died.
    for (const i of indices) expect(outcome[i]).toBe('ok');
    const failed = outcome.filter((o) => o !== 'ok');
    expect(new Set(failed)).toEqual(
      failed.length === 0 ? new Set() : new Set(['sendSocketMessage:fail WebSocket closed before the data was sent']),
    );
    // The sends made while the server was down, and the last thousand, all arrived.
    expect(indices.slice(-1000)).toEqual(Array.from({ length: 1000 }, (_, i) => n - 1000 + i));
    expect(w.count('reconnect')).toBeGreaterThanOrEqual(3);
    expect(w.count('error') + w.count('close')).toBe(0);
    expect(task.readyState).toBe(task.OPEN);
  }, 120_000);

  it('counts attempts per outage, reports each, and opens with reconnected and attempt', async () => {
    let server = await serve();
    const { port } = server;
    const qq = make();
    const door = gate();
    let calls = 0;
    const task = qq.connectSocket({
      url: async () => {
        // The first connection, retries 1 and 2 (refused), then retry 3 waits at the door.
        if (++calls === 4) await door.wait();
        return `ws://127.0.0.1:${port}/echo`;
      },
      reconnect: FAST,
    });
    const w = watch(task);
    // The global slot of the bound task hears every open too.
    const globalOpens: unknown[] = [];
    qq.onSocketOpen((result) => globalOpens.push(result));
    await w.until('open');
    expect(w.events).toEqual([{ event: 'open' }]);
    await server.close();
    await w.until('reconnect', 3);
    server = await serve({ port });
    door.open();
    await w.until('open', 2);
    const refused = `connect ECONNREFUSED 127.0.0.1:${port}`;
    const reconnects = w.events.filter((e) => e.event === 'reconnect');
    expect(reconnects.slice(0, 3)).toEqual([
      {
        event: 'reconnect',
        attempt: 1,
        delay: 1,
        code: 1006,
        reason: 'abnormal closure',
        errMsg: 'connection closed without a close frame',
      },
      { event: 'reconnect', attempt: 2, delay: 1, code: 1006, reason: 'abnormal closure', errMsg: refused },
      { event: 'reconnect', attempt: 3, delay: 1, code: 1006, reason: 'abnormal closure', errMsg: refused },
    ]);
    const opens = w.events.filter((e) => e.event === 'open');
    expect(reconnects.length).toBe(3);
    expect(opens[1]).toEqual({ event: 'open', reconnected: true, attempt: 3 });
    expect(calls).toBe(4);
    expect(globalOpens).toHaveLength(2);
    expect(globalOpens[1]).toMatchObject({ reconnected: true, attempt: 3 });
    // A server that closes cleanly is retried too, and the count starts again at 1.
    for (const s of server.sockets) s.close(1001, 'going away');
    await w.until('open', 3);
    expect(w.events.filter((e) => e.event === 'reconnect').at(-1)).toEqual({
      event: 'reconnect',
      attempt: 1,
      delay: 1,
      code: 1001,
      reason: 'going away',
      errMsg: 'the server closed the connection: 1001 going away',
    });
    expect(w.count('error') + w.count('close')).toBe(0);
  });

  it('waits within the backoff bounds: min(maxDelay, minDelay * factor^n) scaled by [1 - jitter, 1]', async () => {
    const port = await closedPort();
    const qq = make();
    const policy = { minDelay: 20, maxDelay: 200, factor: 3, jitter: 0.5, retries: 5 };
    const dialed: number[] = [];
    const task = qq.connectSocket({
      url: () => {
        dialed.push(performance.now());
        return `ws://127.0.0.1:${port}/`;
      },
      reconnect: policy,
    });
    const w = watch(task);
    // A send waits for a connection that never comes: it fails with the final close.
    const waiting = callbacks();
    task.send({ data: 'never sent', ...waiting });
    await w.until('close');
    expect(waiting.calls[0]).toEqual({
      kind: 'fail',
      result: { errMsg: 'sendSocketMessage:fail WebSocket closed before the data was sent' },
    });
    expect(task.bufferedAmount).toBe(0);
    const reconnects = w.events.filter((e) => e.event === 'reconnect') as Array<{ attempt: number; delay: number }>;
    expect(reconnects.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5]);
    reconnects.forEach(({ attempt, delay }, i) => {
      const base = Math.min(200, 20 * 3 ** (attempt - 1));
      expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.5));
      expect(delay).toBeLessThanOrEqual(base);
      // Measured, not asserted tightly: the next attempt came no sooner than the wait.
      expect((dialed[i + 1] as number) - (dialed[i] as number)).toBeGreaterThanOrEqual(delay - 2);
    });
    expect(w.without('reconnect')).toEqual([
      {
        event: 'error',
        errMsg: `reconnect gave up after 5 attempts: connect ECONNREFUSED 127.0.0.1:${port}`,
      },
      { event: 'close', code: 1006, reason: 'abnormal closure' },
    ]);
  });

  it('does not retry what a retry cannot fix: a 401 handshake, a 1008 close', async () => {
    const server = await serve();
    const qq = make();
    const refused = watch(qq.connectSocket({ url: `${server.url}/status/401`, reconnect: FAST }));
    await refused.until('close');
    expect(refused.events).toEqual([
      { event: 'error', errMsg: 'Unexpected server response: 401' },
      { event: 'close', code: 1006, reason: 'abnormal closure' },
    ]);
    const policy = watch(qq.connectSocket({ url: `${server.url}/close/1008/not%20you`, reconnect: FAST }));
    await policy.until('close');
    expect(policy.events).toEqual([{ event: 'open' }, { event: 'close', code: 1008, reason: 'not you' }]);
    // 429 (too many requests) is retried.
    const busy = watch(qq.connectSocket({ url: `${server.url}/status/429`, reconnect: { ...FAST, retries: 1 } }));
    await busy.until('close');
    expect(busy.events.map((e) => e.event)).toEqual(['reconnect', 'error', 'close']);
    expect(busy.events[1]).toEqual({
      event: 'error',
      errMsg: 'reconnect gave up after 1 attempts: Unexpected server response: 429',
    });
  });

  it('queues sends while CONNECTING up to `queue` bytes, then fails them; the rest go out on open in order', async () => {
    const server = await serve();
    const qq = make();
    const door = gate();
    const task = qq.connectSocket({
      url: async () => {
        await door.wait();
        return `${server.url}/echo`;
      },
      reconnect: { ...FAST, queue: 10 },
    });
    const w = watch(task);
    const outcomes: string[] = [];
    const cb = (label: string) => ({
      success: () => outcomes.push(`${label} ok`),
      fail: ({ errMsg }: { errMsg: string }) => outcomes.push(`${label} ${errMsg}`),
    });
    task.send({ data: 'abcdef', ...cb('a') }); // 6 bytes: waits
    task.send({ data: new Uint8Array(5), ...cb('b') }); // 11 > 10: refused
    task.send({ data: 'wxyz', ...cb('c') }); // 10: waits
    expect(task.readyState).toBe(task.CONNECTING);
    await vi.waitFor(() => expect(outcomes).toEqual(['b sendSocketMessage:fail send queue full (10 bytes)']), WAIT);
    expect(task.bufferedAmount).toBe(10);
    door.open();
    await w.until('message', 2);
    expect(outcomes).toEqual(['b sendSocketMessage:fail send queue full (10 bytes)', 'a ok', 'c ok']);
    expect(w.events.filter((e) => e.event === 'message')).toEqual([
      { event: 'message', data: 'abcdef' },
      { event: 'message', data: 'wxyz' },
    ]);
    expect(task.bufferedAmount).toBe(0);
  });

  it('calls url and header functions before each attempt; one that rejects is a failed attempt', async () => {
    let server = await serve();
    const { port } = server;
    const qq = make();
    let token = 0;
    const task = qq.connectSocket({
      url: () => `ws://127.0.0.1:${port}/echo?token=${++token}`,
      header: async () => {
        if (token === 2) throw new Error('token service down');
        return { authorization: `Bearer t${token}` };
      },
      reconnect: FAST,
    });
    const w = watch(task);
    await w.until('open');
    server.dropAll();
    await w.until('open', 2);
    expect(server.log.paths).toEqual(['/echo?token=1', '/echo?token=3']);
    expect(server.log.headers.map((h) => h.authorization)).toEqual(['Bearer t1', 'Bearer t3']);
    expect(w.events.filter((e) => e.event === 'reconnect').map((e) => (e as { errMsg: string }).errMsg)).toEqual([
      'connection closed without a close frame',
      'header() failed: token service down',
    ]);
    await server.close();
    server = await serve({ port });
    // A url function that rejects: a failed attempt, and said so.
    const rejected = watch(
      qq.connectSocket({ url: () => Promise.reject(new Error('no token')), reconnect: { ...FAST, retries: 1 } }),
    );
    await rejected.until('close');
    expect(rejected.events.map((e) => (e.event === 'reconnect' || e.event === 'error' ? e.errMsg : e.event))).toEqual([
      'url() failed: no token',
      'reconnect gave up after 1 attempts: url() failed: no token',
      'close',
    ]);
    // A url function that returns what is not a ws url: a failed attempt, and said so.
    const bad = watch(qq.connectSocket({ url: () => 'http://127.0.0.1/', reconnect: { ...FAST, retries: 1 } }));
    await bad.until('close');
    expect(bad.without('reconnect')).toEqual([
      {
        event: 'error',
        errMsg: 'reconnect gave up after 1 attempts: connectSocket:fail invalid url "http://127.0.0.1/"',
      },
      { event: 'close', code: 1006, reason: 'abnormal closure' },
    ]);
  });

  it('cancels the wait on close(): the task closes with its code and nothing dials again', async () => {
    const port = await closedPort();
    const qq = make();
    let calls = 0;
    const task = qq.connectSocket({
      url: () => {
        calls++;
        return `ws://127.0.0.1:${port}/`;
      },
      reconnect: { minDelay: 60_000, maxDelay: 60_000 },
    });
    const w = watch(task);
    await w.until('reconnect');
    expect(task.readyState).toBe(task.CONNECTING);
    const cb = callbacks();
    task.close({ code: 4000, reason: 'bye', ...cb });
    await w.until('close');
    expect(cb.calls[0]).toEqual({ kind: 'success', result: { errMsg: 'closeSocket:ok' } });
    expect(w.without('reconnect')).toEqual([{ event: 'close', code: 4000, reason: 'bye' }]);
    expect(calls).toBe(1);
    expect(task.readyState).toBe(task.CLOSED);
  });

  it('closes a task closed in the turn it was made with its code, and makes no connection for it', async () => {
    const server = await serve();
    const qq = make();
    const task = qq.connectSocket({ url: `${server.url}/first`, reconnect: FAST });
    const w = watch(task);
    task.close({ code: 4000, reason: 'changed my mind' });
    await w.until('close');
    expect(w.events).toEqual([{ event: 'close', code: 4000, reason: 'changed my mind' }]);
    // The host would have dialed the first task before it took the second task's connect.
    const next = watch(qq.connectSocket({ url: `${server.url}/second` }));
    await next.until('open');
    await settle();
    expect(server.log.paths).toEqual(['/second']);
  });

  it('closes an OPEN task on close() with its code and reason on the wire, and no retry', async () => {
    const server = await serve();
    const task = make().connectSocket({ url: `${server.url}/echo`, reconnect: FAST });
    const w = watch(task);
    await w.until('open');
    task.close({ code: 4000, reason: 'bye' });
    await w.until('close');
    await server.closed(1);
    expect(w.events).toEqual([{ event: 'open' }, { event: 'close', code: 4000, reason: 'bye' }]);
    expect(server.log.closes).toEqual([{ code: 4000, reason: 'bye' }]);
    await settle();
    expect(server.log.accepted).toBe(1);
  });

  it('times out each attempt on its own, not the task: a first open after retries has attempt, not reconnected', async () => {
    const server = await serve();
    const refused = await closedPort();
    const qq = make();
    let calls = 0;
    // Three refused attempts 100 ms apart: more than the 200 ms `timeout` in all, each far less.
    const task = qq.connectSocket({
      url: () => (++calls <= 3 ? `ws://127.0.0.1:${refused}/` : `${server.url}/echo`),
      timeout: 200,
      reconnect: { minDelay: 100, maxDelay: 100, jitter: 0 },
    });
    const w = watch(task);
    await w.until('open');
    expect(w.events.map((e) => e.event)).toEqual(['reconnect', 'reconnect', 'reconnect', 'open']);
    expect(w.events.at(-1)).toEqual({ event: 'open', attempt: 3 });
    // A handshake that never ends is an attempt that timed out.
    const silent = watch(
      qq.connectSocket({ url: `${server.url}/silent`, timeout: 150, reconnect: { ...FAST, retries: 1 } }),
    );
    await silent.until('close');
    expect(silent.events).toEqual([
      {
        event: 'reconnect',
        attempt: 1,
        delay: 1,
        code: 1006,
        reason: 'abnormal closure',
        errMsg: 'connectSocket:fail timeout',
      },
      { event: 'error', errMsg: 'reconnect gave up after 1 attempts: connectSocket:fail timeout' },
      { event: 'close', code: 1006, reason: 'abnormal closure' },
    ]);
  });

  it('counts against `queue` only what waits: sends that went out on an open no longer count', async () => {
    const server = await serve();
    const qq = make();
    const door = gate();
    const task = qq.connectSocket({
      url: async () => {
        await door.wait();
        return `${server.url}/echo`;
      },
      reconnect: { ...FAST, queue: 10 },
    });
    const w = watch(task);
    const first = callbacks();
    task.send({ data: 'abcdefgh', ...first }); // 8 bytes wait for the first open
    door.open();
    await w.until('message');
    door.close();
    server.dropAll();
    await w.until('reconnect');
    const second = callbacks();
    task.send({ data: 'wxyz', ...second }); // 4 bytes: over 10 only if the 8 still counted
    door.open();
    await w.until('message', 2);
    expect([first.calls[0], second.calls[0]]).toEqual([
      { kind: 'success', result: { errMsg: 'sendSocketMessage:ok' } },
      { kind: 'success', result: { errMsg: 'sendSocketMessage:ok' } },
    ]);
    expect(w.events.filter((e) => e.event === 'message')).toEqual([
      { event: 'message', data: 'abcdefgh' },
      { event: 'message', data: 'wxyz' },
    ]);
  });

  it('reports sends the host refused in their place, after the send that waits before them', async () => {
    // The task still sees OPEN while its host, which has lost the connection, already holds
    // sends: the host checks `queue` too, and its refusals must not overtake a send that waits.
    const server = await serve();
    const qq = make();
    const task = qq.connectSocket({
      url: `${server.url}/sink`,
      reconnect: { minDelay: 50, maxDelay: 50, jitter: 0, queue: 10 },
    });
    const w = watch(task);
    await w.until('open');
    const outcomes: Array<{ data: string; errMsg?: string }> = [];
    const full = 'sendSocketMessage:fail send queue full (10 bytes)';
    const refused = () => outcomes.filter((o) => o.errMsg === full).map((o) => o.data);
    // Three 6-byte sends a turn while the task sees OPEN: the first the host gets after the loss
    // waits, the next two pass 10 bytes and are refused. Sends reach the host in that window only
    // if one of this thread's turns falls between the host seeing the loss and the task hearing
    // of it: most drops give some, but a slow turn gives none. So the test drops the connection
    // again until the host refused some (what this test is about), at most 20 times.
    for (let drop = 1; refused().length === 0; drop++) {
      expect(drop).toBeLessThanOrEqual(20);
      server.dropAll();
      const start = outcomes.length;
      await new Promise<void>((resolve) => {
        const turn = () => {
          if (task.readyState !== task.OPEN || outcomes.length - start >= 4000) return resolve();
          for (let k = 0; k < 3; k++) {
            const outcome: { data: string; errMsg?: string } = { data: `s${String(outcomes.length).padStart(5, '0')}` };
            outcomes.push(outcome);
            task.send({
              data: outcome.data,
              success: ({ errMsg }) => {
                outcome.errMsg = errMsg;
              },
              fail: ({ errMsg }) => {
                outcome.errMsg = errMsg;
              },
            });
          }
          setImmediate(turn);
        };
        setImmediate(turn);
      });
      await w.until('open', drop + 1);
      await vi.waitFor(() => expect(outcomes.filter((o) => o.errMsg === undefined)).toEqual([]), WAIT);
    }
    // What waited went out on the last connection: reported sent, and nothing it got reported refused.
    await vi.waitFor(() => expect(server.log.received.at(-1)?.length).toBeGreaterThan(0), WAIT);
    const received = new Set(server.log.received.flat().map(String));
    for (const o of outcomes)
      if (received.has(o.data)) expect(o).toEqual({ data: o.data, errMsg: 'sendSocketMessage:ok' });
    expect(refused().filter((data) => received.has(data))).toEqual([]);
    // Only sends that succeeded count in stats.
    const ok = outcomes.filter((o) => o.errMsg === 'sendSocketMessage:ok').length;
    expect((await qq.stats()).tasks).toMatchObject([{ messagesOut: ok, bytesOut: 6 * ok, sendsWaiting: 0 }]);
  });

  it("checks what url and header functions give against the instance's policy and the header rules", async () => {
    const server = await serve();
    const once = { ...FAST, retries: 0 };
    const lastWords = async (qq: QQ, option: object) => {
      const w = watch(qq.connectSocket({ ...option, reconnect: once } as never));
      await w.until('close');
      return w.events;
    };
    const gaveUp = (errMsg: string) => [
      { event: 'error', errMsg: `reconnect gave up after 0 attempts: ${errMsg}` },
      { event: 'close', code: 1006, reason: 'abnormal closure' },
    ];
    const url = `${server.url}/echo`;
    expect(await lastWords(make({ allowedHosts: ['example.test'] }), { url: () => url })).toEqual(
      gaveUp('connectSocket:fail url not in domain list'),
    );
    expect(await lastWords(make({ requireSecure: true }), { url: () => url })).toEqual(
      gaveUp(`connectSocket:fail invalid url "${url}"`),
    );
    expect(await lastWords(make(), { url, header: () => ({ Referer: 'https://example.test/' }) })).toEqual(
      gaveUp('connectSocket:fail header Referer is not allowed'),
    );
    expect(await lastWords(make(), { url, header: async () => ({ 'x-token': 'a\r\nx-injected: 1' }) })).toEqual(
      gaveUp('connectSocket:fail invalid header x-token'),
    );
    expect(server.log.accepted).toBe(0);
  });

  it('varies each wait by jitter, so that clients dropped together do not come back together', async () => {
    const port = await closedPort();
    const task = make().connectSocket({
      url: `ws://127.0.0.1:${port}/`,
      reconnect: { minDelay: 40, maxDelay: 40, jitter: 1, retries: 8 },
    });
    const w = watch(task);
    await w.until('close');
    const delays = w.events.flatMap((e) => (e.event === 'reconnect' ? [e.delay] : []));
    expect(delays).toHaveLength(8);
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(0);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(40);
    // Eight waits drawn from 0-40 ms are all the same only if nothing random went into them.
    expect(new Set(delays).size).toBeGreaterThan(1);
  });

  it('retries a 408 and a 5xx handshake and the close codes a retry can fix; not a 499 or the final codes', async () => {
    const server = await serve();
    const qq = make();
    const once = { ...FAST, retries: 1 };
    const ended = async (path: string) => {
      const w = watch(qq.connectSocket({ url: `${server.url}${path}`, reconnect: once }));
      await w.until('close');
      return w.events;
    };
    for (const status of [408, 500]) {
      const events = await ended(`/status/${status}`);
      expect(events.map((e) => e.event)).toEqual(['reconnect', 'error', 'close']);
      expect(events[1]).toEqual({
        event: 'error',
        errMsg: `reconnect gave up after 1 attempts: Unexpected server response: ${status}`,
      });
    }
    expect(await ended('/status/499')).toEqual([
      { event: 'error', errMsg: 'Unexpected server response: 499' },
      { event: 'close', code: 1006, reason: 'abnormal closure' },
    ]);
    for (const code of [1002, 1003, 1007, 1009, 1010]) {
      expect(await ended(`/close/${code}/final`)).toEqual([
        { event: 'open' },
        { event: 'close', code, reason: 'final' },
      ]);
    }
    // 1011 is retried; with no retry left, the last loss's code and reason close the task.
    const retried = watch(qq.connectSocket({ url: `${server.url}/close/1011/oops`, reconnect: FAST }));
    await retried.until('reconnect');
    expect(retried.events.slice(0, 2)).toEqual([
      { event: 'open' },
      {
        event: 'reconnect',
        attempt: 1,
        delay: 1,
        code: 1011,
        reason: 'oops',
        errMsg: 'the server closed the connection: 1011 oops',
      },
    ]);
    const last = watch(qq.connectSocket({ url: `${server.url}/close/1011/oops`, reconnect: { retries: 0 } }));
    await last.until('close');
    expect(last.events).toEqual([
      { event: 'open' },
      { event: 'error', errMsg: 'reconnect gave up after 0 attempts: the server closed the connection: 1011 oops' },
      { event: 'close', code: 1011, reason: 'oops' },
    ]);
  });

  it('refuses bad reconnect and keepalive options, and function urls without reconnect or with share', async () => {
    const qq = make();
    const refusal = async (option: object) => {
      const cb = callbacks();
      const task = qq.connectSocket({ url: 'ws://127.0.0.1:1/', ...option, ...cb } as never);
      await cb.done;
      expect(task.readyState).toBe(task.CLOSED);
      return cb.calls[0]?.result.errMsg;
    };
    expect(await refusal({ reconnect: 'yes' })).toBe(
      'connectSocket:fail parameter error: parameter.reconnect should be Boolean or Object instead of String',
    );
    expect(await refusal({ reconnect: { minDelay: -1 } })).toBe(
      'connectSocket:fail parameter error: parameter.reconnect.minDelay should be a Number >= 0 instead of -1',
    );
    expect(await refusal({ reconnect: { retries: 1.5 } })).toBe(
      'connectSocket:fail parameter error: parameter.reconnect.retries should be an integer >= 0 or Infinity instead of 1.5',
    );
    expect(await refusal({ reconnect: { factor: 0.5 } })).toBe(
      'connectSocket:fail parameter error: parameter.reconnect.factor should be a Number >= 1 instead of 0.5',
    );
    expect(await refusal({ reconnect: { jitter: 2 } })).toBe(
      'connectSocket:fail parameter error: parameter.reconnect.jitter should be a Number from 0 to 1 instead of 2',
    );
    expect(await refusal({ reconnect: { minDelay: 100, maxDelay: 10 } })).toBe(
      'connectSocket:fail parameter error: parameter.reconnect.maxDelay should be a Number >= minDelay instead of 10',
    );
    const numbers: Array<[object, string]> = [
      [{ reconnect: null }, 'reconnect should be Boolean or Object instead of Null'],
      [{ reconnect: [] }, 'reconnect should be Boolean or Object instead of Array'],
      [{ reconnect: { minDelay: '5' } }, 'reconnect.minDelay should be Number instead of String'],
      [{ reconnect: { retries: NaN } }, 'reconnect.retries should be an integer >= 0 or Infinity instead of NaN'],
      [{ reconnect: { minDelay: 2 ** 31 } }, 'reconnect.minDelay should be a Number >= 0 instead of 2147483648'],
      [{ reconnect: { maxDelay: 2 ** 31 } }, 'reconnect.maxDelay should be a Number >= minDelay instead of 2147483648'],
      [{ reconnect: { minDelay: 30000 } }, 'reconnect.maxDelay should be a Number >= minDelay instead of 20000'],
      [{ reconnect: { factor: Infinity } }, 'reconnect.factor should be a Number >= 1 instead of Infinity'],
      [{ reconnect: { jitter: -0.5 } }, 'reconnect.jitter should be a Number from 0 to 1 instead of -0.5'],
      [{ reconnect: { queue: 10.5 } }, 'reconnect.queue should be an integer >= 0 or Infinity instead of 10.5'],
      [{ keepalive: { interval: '100' } }, 'keepalive.interval should be Number instead of String'],
      [{ keepalive: { timeout: 2 ** 31 } }, 'keepalive.timeout should be a Number > 0 instead of 2147483648'],
      [{ keepalive: { interval: Infinity } }, 'keepalive.interval should be a Number > 0 instead of Infinity'],
    ];
    for (const [option, what] of numbers) {
      expect(await refusal(option)).toBe(`connectSocket:fail parameter error: parameter.${what}`);
    }
    expect(await refusal({ keepalive: { interval: 0 } })).toBe(
      'connectSocket:fail parameter error: parameter.keepalive.interval should be a Number > 0 instead of 0',
    );
    expect(await refusal({ keepalive: { message: 5 } })).toBe(
      'connectSocket:fail parameter error: parameter.keepalive.message should be String instead of Number',
    );
    expect(await refusal({ url: () => 'ws://127.0.0.1:1/' })).toBe(
      'connectSocket:fail parameter error: parameter.url should be String instead of Function',
    );
    expect(await refusal({ url: () => 'ws://127.0.0.1:1/', reconnect: true, share: true })).toBe(
      'connectSocket:fail parameter error: parameter.url should be String instead of Function',
    );
    expect(await refusal({ header: () => ({}) })).toBe(
      'connectSocket:fail parameter error: parameter.header should be Object instead of Function',
    );
  });
});

describe.each(['inline', 'thread'] as const)('keepalive (%s)', (backend) => {
  const instances: QQ[] = [];
  afterAll(async () => {
    await Promise.all(instances.splice(0).map((qq) => qq.destroy()));
  });
  const make = () => {
    const qq = createQQ({ backend });
    instances.push(qq);
    return qq;
  };

  it('drops a connection whose server stops answering pings: error, then 1006', async () => {
    const server = await startWsServer({ autoPong: false });
    try {
      const task = make().connectSocket({ url: `${server.url}/echo`, keepalive: { interval: 200, timeout: 200 } });
      const w = watch(task);
      await w.until('close');
      expect(w.events[0]).toEqual({ event: 'open' });
      expect(w.events.slice(1).map((e) => e.event)).toEqual(['error', 'close']);
      const { errMsg } = w.events[1] as { errMsg: string };
      expect(errMsg).toMatch(/^keepalive timeout: no frame from the server for \d+ ms$/);
      expect(Number(/(\d+) ms/.exec(errMsg)?.[1])).toBeGreaterThanOrEqual(400);
      expect(w.events[2]).toEqual({ event: 'close', code: 1006, reason: 'abnormal closure' });
    } finally {
      await server.close();
    }
  });

  it('keeps a connection whose server answers, across many intervals', async () => {
    const server = await startWsServer();
    try {
      // A timeout a busy machine's pong cannot overrun, and pings for longer than one interval
      // and timeout: had the pongs not counted, the connection would be gone.
      const task = make().connectSocket({ url: `${server.url}/echo`, keepalive: { interval: 100, timeout: 1500 } });
      const w = watch(task);
      await w.until('open');
      let pings = 0;
      for (const s of server.sockets) s.on('ping', () => pings++);
      await vi.waitFor(() => expect(pings).toBeGreaterThanOrEqual(20), WAIT);
      expect(w.events).toEqual([{ event: 'open' }]);
      task.close();
      await w.until('close');
    } finally {
      await server.close();
    }
  });

  it('reconnects instead, when a silent TCP peer stops everything after the handshake', async () => {
    // A raw peer: answers the handshake of a real server, then reads and writes nothing more.
    const real = await startWsServer();
    const peers: net.Socket[] = [];
    const silent = net.createServer((client) => {
      const upstream = net.connect(real.port, '127.0.0.1');
      peers.push(client, upstream);
      client.pipe(upstream);
      let answered = false;
      upstream.on('data', (chunk: Buffer) => {
        if (answered) return; // after the handshake response: silence, both ways
        answered = true;
        client.write(chunk);
        client.unpipe(upstream);
      });
      client.on('error', () => {});
      upstream.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const task = make().connectSocket({
        url: `ws://127.0.0.1:${port}/echo`,
        keepalive: { interval: 150, timeout: 150 },
        reconnect: FAST,
      });
      const w = watch(task);
      // Each connection opens, then goes silent: each is dropped, and retried from attempt 1.
      await w.until('open', 3);
      const reconnects = w.events.filter((e) => e.event === 'reconnect') as Array<{ errMsg: string; code: number }>;
      for (const r of reconnects.slice(0, 2)) {
        expect(r).toMatchObject({ attempt: 1, code: 1006, reason: 'abnormal closure' });
        expect(r.errMsg).toMatch(/^keepalive timeout: no frame from the server for \d+ ms$/);
      }
      expect(w.events.slice(0, 5).map((e) => e.event)).toEqual(['open', 'reconnect', 'open', 'reconnect', 'open']);
      expect(w.count('error') + w.count('close')).toBe(0);
      // Closing a silent connection: no close frame comes back, and keepalive ends it.
      task.close();
      await w.until('close');
      expect(w.events.at(-1)).toEqual({ event: 'close', code: 1006, reason: 'abnormal closure' });
    } finally {
      for (const socket of peers) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
      await real.close();
    }
  });
});

/** The instance's test hook (create-qq.ts): `crash` makes its host die. */
const debugOf = (qq: QQ) =>
  (qq as unknown as Record<symbol, { crash(how: 'throw' | 'exit' | 'oom'): void }>)[
    Symbol.for('qq-socket-worker.debug')
  ] as {
    crash(how: 'throw' | 'exit' | 'oom'): void;
  };

describe('a host that dies under a reconnecting task (thread)', () => {
  it('retries a host that cannot start after the backoff, and gives up when retries run out', async () => {
    const missing = new URL('./no-such-host.js', import.meta.url);
    const qq = createQQ({ backend: 'thread', workerUrl: missing });
    try {
      const task = qq.connectSocket({
        url: 'ws://127.0.0.1:1/',
        reconnect: { minDelay: 20, maxDelay: 20, retries: 2 },
      });
      const w = watch(task);
      await w.until('close');
      const died = `socket host died: the worker script ${missing.href} failed to load: no such file`;
      expect(w.events).toEqual([
        {
          event: 'reconnect',
          attempt: 1,
          delay: expect.any(Number),
          code: 1006,
          reason: 'abnormal closure',
          errMsg: died,
        },
        {
          event: 'reconnect',
          attempt: 2,
          delay: expect.any(Number),
          code: 1006,
          reason: 'abnormal closure',
          errMsg: died,
        },
        { event: 'error', errMsg: `reconnect gave up after 2 attempts: ${died}` },
        { event: 'close', code: 1006, reason: 'abnormal closure' },
      ]);
    } finally {
      await qq.destroy();
    }
  });

  it('closes a task waiting for a fresh host when the instance is destroyed', async () => {
    const missing = new URL('./no-such-host.js', import.meta.url);
    const qq = createQQ({ backend: 'thread', workerUrl: missing });
    const task = qq.connectSocket({ url: 'ws://127.0.0.1:1/', reconnect: { minDelay: 60_000, maxDelay: 60_000 } });
    const w = watch(task);
    await w.until('reconnect'); // its host could not start: it waits a minute for the next
    await qq.destroy();
    expect(w.events.map((e) => e.event)).toEqual(['reconnect', 'close']);
    expect(w.events.at(-1)).toEqual({ event: 'close', code: 1001, reason: 'qq instance destroyed' });
  });

  it('keeps a keepalive socket that flow control paused for a page behind', async () => {
    // The server in a process of its own (python3-websockets): this thread is the slow page.
    const python = await startPythonServer();
    // A pipeline stage tells when the host has put one value past the window in flight: from
    // then on the socket is paused until this thread takes its first batch, whatever the speeds.
    const scratch = mkdtempSync(join(tmpdir(), 'qq-keepalive-'));
    const marker = join(scratch, 'paused');
    const qq = createQQ({ backend: 'thread', pipeline: MODULE });
    try {
      const n = 40_000;
      const keepalive = { interval: 100, timeout: 200 };
      const task = qq.connectSocket({
        url: `${python.url}/burst/${n}?marker=${encodeURIComponent(marker)}&markAt=${HIGH_WATER_ITEMS + 1}`,
        pipeline: 'numbered',
        keepalive,
      });
      const w = watch(task);
      let got = 0;
      task.onMessage(() => {
        got++;
        if (got !== 1) return;
        // The page falls behind: paused, then for three times interval + timeout more. The server
        // is silent only to a socket that does not read; keepalive must not take it for dead.
        while (!existsSync(marker));
        const until = performance.now() + 3 * (keepalive.interval + keepalive.timeout);
        while (performance.now() < until);
      });
      await vi.waitFor(() => expect(got).toBe(n), WAIT);
      expect((await qq.stats()).host?.pauses).toBeGreaterThan(0);
      expect(w.events.filter((e) => e.event !== 'message')).toEqual([{ event: 'open' }]);
      task.close();
      await w.until('close');
      expect(w.events.at(-1)).toEqual({ event: 'close', code: 1000, reason: '' });
    } finally {
      await qq.destroy();
      await python.close();
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('counts a host death as the next retry of the outage under way, and from 1 after an open', async () => {
    const server = await startWsServer();
    const qq = createQQ({ backend: 'thread' });
    try {
      const task = qq.connectSocket({
        url: `${server.url}/echo`,
        reconnect: { minDelay: 300, maxDelay: 300, jitter: 0 },
      });
      const w = watch(task);
      await w.until('open');
      server.dropAll();
      await w.until('reconnect'); // retry 1 waits 300 ms in the host: the host dies meanwhile
      debugOf(qq).crash('throw');
      await w.until('open', 2);
      debugOf(qq).crash('throw');
      await w.until('open', 3);
      const died = (e: Event) => e.event === 'reconnect' && e.errMsg.startsWith('socket host died: ');
      expect(
        w.events.map((e) => (e.event === 'reconnect' ? `${e.attempt} ${died(e) ? 'died' : e.errMsg}` : e)),
      ).toEqual([
        { event: 'open' },
        '1 connection closed without a close frame',
        '2 died',
        { event: 'open', reconnected: true, attempt: 2 },
        '1 died',
        { event: 'open', reconnected: true, attempt: 1 },
      ]);
    } finally {
      await qq.destroy();
      await server.close();
    }
  });

  it('fails the sends a dying host held, and sends what was sent while waiting for a fresh one', async () => {
    const server = await startWsServer();
    const qq = createQQ({ backend: 'thread' });
    try {
      const door = gate();
      let calls = 0;
      const task = qq.connectSocket({
        url: async () => {
          calls++;
          await door.wait();
          return `${server.url}/echo`;
        },
        reconnect: { minDelay: 200, maxDelay: 200, jitter: 0 },
      });
      const w = watch(task);
      const held = callbacks();
      task.send({ data: 'held by the host that dies', ...held });
      await vi.waitFor(() => expect(calls).toBe(1), WAIT); // the host waits for the url, holding the send
      debugOf(qq).crash('throw');
      await w.until('reconnect');
      expect(held.calls[0]).toEqual({
        kind: 'fail',
        result: { errMsg: 'sendSocketMessage:fail WebSocket closed before the data was sent' },
      });
      // Sent while no host runs: they wait for the fresh one, in order.
      const waiting = [callbacks(), callbacks()];
      task.send({ data: 'while waiting 1', ...waiting[0] });
      task.send({ data: new Uint8Array([1, 2, 3]), ...waiting[1] });
      door.open();
      await w.until('message', 2);
      expect(
        w
          .without('reconnect')
          .map((e) =>
            e.event === 'message' && typeof e.data !== 'string' ? [...new Uint8Array(e.data as ArrayBuffer)] : e,
          ),
      ).toEqual([{ event: 'open', attempt: 1 }, { event: 'message', data: 'while waiting 1' }, [1, 2, 3]]);
      expect(waiting.map((cb) => cb.calls[0]?.kind)).toEqual(['success', 'success']);
      expect(server.log.received.flat().map(String)).toEqual(['while waiting 1', '\u0001\u0002\u0003']);
    } finally {
      await qq.destroy();
      await server.close();
    }
  });

  it('reconnects through a fresh host, with the death as the loss', async () => {
    const server = await startWsServer();
    const qq = createQQ({ backend: 'thread' });
    try {
      const task = qq.connectSocket({ url: `${server.url}/echo`, reconnect: FAST });
      const w = watch(task);
      await w.until('open');
      const debug = (qq as unknown as Record<symbol, { crash(how: string): void }>)[
        Symbol.for('qq-socket-worker.debug')
      ];
      debug?.crash('throw');
      await w.until('open', 2);
      const reconnect = w.events[1] as { event: string; attempt: number; code: number; errMsg: string };
      expect(reconnect).toMatchObject({ event: 'reconnect', attempt: 1, code: 1006 });
      expect(reconnect.errMsg).toMatch(/^socket host died: /);
      expect(w.events[2]).toEqual({ event: 'open', reconnected: true, attempt: 1 });
      task.send({ data: 'after the crash' });
      await w.until('message');
      expect(w.events.at(-1)).toEqual({ event: 'message', data: 'after the crash' });
    } finally {
      await qq.destroy();
      await server.close();
    }
  });
});
