/**
 * The browser build in real Chromium (issue 4, first increment): the `worker` backend (a
 * dedicated Web Worker with the native WebSocket) and `inline`, against a ws server on 127.0.0.1.
 * The scenarios run inside the page; their event logs come back for exact assertions here.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startStaticServer } from './helpers/chromium.js';
import { closedPort, startWsServer, type TestServer } from './helpers/servers.js';

let browser: Browser;
let page: Page;
let web: { origin: string; close(): Promise<void> };
let server: TestServer;
const consoleLines: string[] = [];

beforeAll(async () => {
  [web, server, browser] = await Promise.all([startStaticServer(), startWsServer(), launchChromium()]);
  page = await browser.newPage();
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  await page.goto(`${web.origin}/`);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all([web?.close(), server?.close()]);
});

/**
 * The page side, as source text (vitest rewrites `import()` in functions it compiles, so code for
 * the page travels as a string): imports the browser build, records every event of the tasks the
 * script watches, runs the script, destroys the instance and returns the log.
 */
const HARNESS = `async ({ backend, url, script }) => {
  const { createQQ } = await import('/dist/browser/index.js');
  const qq = createQQ({ backend });
  const log = [];
  const describe = (data) =>
    data instanceof ArrayBuffer
      ? { bytes: data.byteLength, sum: new Uint8Array(data).reduce((a, b) => (a + b) % 65521, 0) }
      : data;
  const watch = (task) =>
    new Promise((resolve) => {
      task.onOpen(({ header, profile }) => log.push({ open: { header, profile: Object.values(profile).every(Number.isFinite) } }));
      task.onMessage(({ data }) => log.push({ message: describe(data) }));
      task.onError(({ errMsg }) => log.push({ error: errMsg }));
      task.onClose((r) => { log.push({ close: r }); resolve(); });
    });
  const run = new Function('qq', 'url', 'watch', 'log', 'return (async () => {' + script + '})()');
  await run(qq, url, watch, log);
  await qq.destroy();
  return log;
}`;

type Scenario = { backend: string; url: string; script: string };
async function inPage(scenario: Scenario): Promise<unknown[]> {
  return page.evaluate(`(${HARNESS})(${JSON.stringify(scenario)})`) as Promise<unknown[]>;
}

const bytes = (n: number) => ({
  bytes: n,
  sum: Array.from({ length: n }, (_, i) => i & 0xff).reduce((a, b) => (a + b) % 65521, 0),
});

describe.each(['worker', 'shared', 'inline'])('browser build, %s backend (Chromium)', (backend) => {
  it('opens, round-trips text and binary of exact length, and closes with our code', async () => {
    const log = await inPage({
      backend,
      url: `${server.url}/echo`,
      script: `
        const task = qq.connectSocket({ url, protocols: ['v1'] });
        const done = watch(task);
        let n = 0;
        task.onOpen(() => {
          log.push({ protocol: task.protocol, readyState: task.readyState });
          task.send({ data: 'héllo 世界 🎉' });
          for (const size of [0, 5, 70000]) {
            const b = new Uint8Array(size).map((_, i) => i & 0xff);
            task.send({ data: size === 5 ? b : b.buffer, transfer: size === 70000 });
          }
        });
        task.onMessage(() => { if (++n === 4) task.close({ code: 4000, reason: 'bye' }); });
        await done;`,
    });
    expect(log).toEqual([
      { open: { header: {}, profile: true } },
      { protocol: 'v1', readyState: 1 },
      { message: 'héllo 世界 🎉' },
      { message: bytes(0) },
      { message: bytes(5) },
      { message: bytes(70000) },
      { close: { code: 4000, reason: 'bye' } },
    ]);
  });

  it('reports the server close frame, and a refused connection as error then 1006', async () => {
    const port = await closedPort();
    const log = await inPage({
      backend,
      url: `${server.url}/close/4001/see%20you`,
      script: `
        await watch(qq.connectSocket({ url }));
        await watch(qq.connectSocket({ url: 'ws://127.0.0.1:${port}/' }));`,
    });
    expect(log).toEqual([
      { open: { header: {}, profile: true } },
      { close: { code: 4001, reason: 'see you' } },
      { error: `WebSocket connection to 'ws://127.0.0.1:${port}/' failed` },
      { close: { code: 1006, reason: 'abnormal closure' } },
    ]);
  });

  it('applies the spec on parameters, CONNECTING close, globals and destroy', async () => {
    consoleLines.length = 0;
    const log = await inPage({
      backend,
      url: `${server.url}/echo`,
      script: `
        qq.connectSocket({ url: 'http://x/', fail: (r) => log.push(r) });
        const aborted = qq.connectSocket({ url, header: { 'x-token': 't' } });
        qq.connectSocket({ url, header: { 'x-other': 'u' } }).close();
        const abortedDone = watch(aborted);
        aborted.close({ code: 4002, reason: 'changed my mind' });
        await abortedDone;
        const task = qq.connectSocket({ url });
        task.send({ data: 'x', fail: (r) => log.push(r) });
        await new Promise((r) => task.onOpen(r));
        const echoed = new Promise((r) => task.onMessage(r));
        log.push(await qq.sendSocketMessage({ data: 'via global' }));
        await echoed;
        const closed = watch(task);
        await qq.destroy();
        await closed;`,
    });
    expect(log).toEqual([
      { errMsg: 'connectSocket:fail invalid url "http://x/"' },
      { close: { code: 4002, reason: 'changed my mind' } },
      { errMsg: 'SocketTask.send:fail SocketTask.readyState is not OPEN' },
      { errMsg: 'sendSocketMessage:ok' },
      { close: { code: 1001, reason: 'qq instance destroyed' } },
    ]);
    expect(consoleLines.filter((l) => l.includes('cannot set handshake headers'))).toEqual([
      'warning: qq-socket-worker: browsers cannot set handshake headers; header is ignored',
    ]);
  });

  it('keeps the task rules: listeners, readyState, send order, bufferedAmount, close validation', async () => {
    const before = server.log.received.length;
    const log = await inPage({
      backend,
      url: `${server.url}/sink`,
      script: `
        const task = qq.connectSocket({ url });
        log.push({ constants: [task.CONNECTING, task.OPEN, task.CLOSING, task.CLOSED], readyState: task.readyState });
        const calls = [];
        const a = () => calls.push('a'), b = () => calls.push('b'), c = () => calls.push('c');
        task.onOpen(a); task.onOpen(a); task.onOpen(b); task.onOpen(c); task.offOpen(c);
        let fired = false;
        task.onOpen(() => { fired = true; });
        log.push({ syncFire: fired });
        await new Promise((r) => task.onOpen(r));
        log.push({ calls, readyState: task.readyState });
        const done = new Promise((resolve) => {
          for (let i = 0; i < 300; i++) task.send({ data: i % 3 ? 's' + i : new Uint8Array([i & 255, i >> 8]) });
          task.send({ data: 'last', success: (r) => resolve(r) });
        });
        log.push({ buffered: task.bufferedAmount > 0 });
        log.push(await done);
        await new Promise((r) => setTimeout(r, 20));
        log.push({ bufferedAfter: task.bufferedAmount });
        const fail = (opts) => new Promise((resolve) => task.close({ ...opts, fail: (r) => resolve(r.errMsg) }));
        log.push(await fail({ code: 1001 }), await fail({ code: 2999 }), await fail({ reason: 5 }), await fail({ reason: 'é'.repeat(62) }));
        const closed = new Promise((r) => task.onClose(r));
        task.close({ code: 4999, reason: 'é'.repeat(61) + 'a' });
        log.push({ readyState: task.readyState });
        log.push(await fail({}));
        log.push(await closed);`,
    });
    expect(log).toEqual([
      { constants: [0, 1, 2, 3], readyState: 0 },
      { syncFire: false },
      { calls: ['a', 'b'], readyState: 1 },
      { buffered: true },
      { errMsg: 'sendSocketMessage:ok' },
      { bufferedAfter: 0 },
      'closeSocket:fail invalid code',
      'closeSocket:fail invalid code',
      'closeSocket:fail reason must be a string',
      'closeSocket:fail reason must not exceed 123 UTF-8 bytes',
      { readyState: 2 },
      'closeSocket:fail WebSocket is not connected',
      { code: 4999, reason: `${'é'.repeat(61)}a` },
    ]);
    const got = server.log.received[before] as Array<string | Buffer>;
    expect(got).toHaveLength(301);
    got.slice(0, 300).forEach((m, i) => {
      if (i % 3) expect(m).toBe(`s${i}`);
      else expect([...(m as Buffer)]).toEqual([i & 255, i >> 8]);
    });
  });

  it('keeps the global binding, the connection limit and exact binary sizes around 64 KiB', async () => {
    const log = await inPage({
      backend,
      url: `${server.url}/echo`,
      script: `
        const opened = (t) => new Promise((r) => t.onOpen(r));
        const first = qq.connectSocket({ url });
        const second = qq.connectSocket({ url });
        await Promise.all([opened(first), opened(second)]);
        const seen = [];
        qq.onSocketMessage(({ data }) => seen.push(data));
        second.send({ data: 'to second' });
        await new Promise((r) => second.onMessage(r));
        log.push({ globalSawSecond: seen.length });
        first.close();
        await new Promise((r) => first.onClose(r));
        log.push(await qq.sendSocketMessage({ data: 'x' }).catch((e) => e));
        const more = [1, 2, 3, 4].map(() => qq.connectSocket({ url }));
        const moreOpened = Promise.all(more.map(opened));
        log.push(await new Promise((resolve) => qq.connectSocket({ url, fail: resolve })));
        await moreOpened;
        const sizes = [65535, 65536, 65537];
        const echoes = [];
        const got = new Promise((resolve) => more[0].onMessage(({ data }) => { echoes.push(data.byteLength); if (echoes.length === 3) resolve(); }));
        for (const n of sizes) more[0].send({ data: new Uint8Array(n).buffer });
        await got;
        log.push({ echoes: [...echoes] }); // a copy: later messages on this task must not show up here
        log.push(await qq.sendSocketMessage({ data: 'bound again' }));`,
    });
    expect(log).toEqual([
      { globalSawSecond: 0 },
      { errMsg: 'sendSocketMessage:fail WebSocket is not connected' },
      { errMsg: 'connectSocket:fail exceed max concurrent count 5' },
      { echoes: [65535, 65536, 65537] },
      { errMsg: 'sendSocketMessage:ok' },
    ]);
  });

  it('delivers a burst before the close; reports a drop, a timeout and a rejected handshake', async () => {
    const log = await inPage({
      backend,
      url: server.url,
      script: `
        await watch(qq.connectSocket({ url: url + '/burst/30/4002' }));
        await watch(qq.connectSocket({ url: url + '/drop' }));
        await watch(qq.connectSocket({ url: url + '/silent', timeout: 200 }));
        await watch(qq.connectSocket({ url: url + '/status/403' }));`,
    });
    const abnormal = { close: { code: 1006, reason: 'abnormal closure' } };
    expect(log).toEqual([
      { open: { header: {}, profile: true } },
      ...Array.from({ length: 30 }, (_, i) => ({ message: `m${i}` })),
      { close: { code: 4002, reason: '' } },
      { open: { header: {}, profile: true } },
      { error: expect.stringMatching(/^(WebSocket error|connection closed without a close frame)$/) },
      abnormal,
      { error: 'connectSocket:fail timeout' },
      abnormal,
      { error: `WebSocket connection to '${server.url}/status/403' failed` },
      abnormal,
    ]);
  });
  it('names the type in parameter errors, and keeps Promise rejections handled', async () => {
    const log = await inPage({
      backend,
      url: `${server.url}/echo`,
      script: `
        const unhandled = [];
        addEventListener('unhandledrejection', (e) => unhandled.push(String(e.reason?.errMsg ?? e.reason)));
        // Options that are not an object (a string included); urls that are not a string.
        for (const value of [undefined, null, 42, true, 'ws://127.0.0.1/', [], () => {}, Symbol('s'), 10n]) {
          log.push(qq.connectSocket(value).readyState);
        }
        for (const value of [undefined, null, 42, true, {}, [], () => {}, Symbol('s'), 10n]) {
          await new Promise((resolve) => qq.connectSocket({ url: value, fail: (r) => { log.push(r.errMsg); resolve(); } }));
        }
        log.push(await qq.closeSocket().catch((r) => r));
        qq.sendSocketMessage({ data: 'nobody awaits this' }); // rejected, never awaited
        await new Promise((r) => setTimeout(r, 100));
        log.push({ unhandled });`,
    });
    const types = ['Undefined', 'Null', 'Number', 'Boolean', 'Object', 'Array', 'Function', 'Symbol', 'BigInt'];
    expect(log).toEqual([
      ...Array(9).fill(3), // a CLOSED task for every options value that is not an object
      ...types.map((type) => `connectSocket:fail parameter error: parameter.url should be String instead of ${type}`),
      { errMsg: 'closeSocket:fail WebSocket is not connected' },
      { unhandled: [] },
    ]);
  });
});

describe('browser build (Chromium)', () => {
  it('runs the worker backend in a Web Worker and refuses unknown backends', async () => {
    const result = (await page.evaluate(`(async () => {
      const { createQQ } = await import('/dist/browser/index.js');
      try {
        createQQ({ backend: 'thread' });
        return { error: '' };
      } catch (e) {
        return { error: e.name + ': ' + e.message };
      }
    })()`)) as { error: string };
    expect(result.error).toBe("TypeError: createQQ: options.backend must be 'auto', 'worker', 'shared' or 'inline'");
    const workers: string[] = [];
    page.on('worker', (w) => workers.push(w.url()));
    await inPage({
      backend: 'worker',
      url: `${server.url}/echo`,
      script: 'await watch((() => { const t = qq.connectSocket({ url }); t.onOpen(() => t.close()); return t; })());',
    });
    expect(workers).toEqual([`${web.origin}/dist/browser/worker.js`]);
  });

  it('has a host from another build refuse the facade with a clear reason (versioned protocol)', async () => {
    const reply = await page.evaluate(`new Promise((resolve) => {
      const worker = new Worker('/dist/browser/worker.js', { type: 'module' });
      const data = new MessageChannel();
      const control = new MessageChannel();
      worker.onmessage = (event) => { resolve(event.data); worker.terminate(); };
      worker.postMessage(
        { type: 'qq-host-init', config: { protocolVersion: 999, maxPayload: 1, tls: undefined }, data: data.port2, control: control.port2 },
        [data.port2, control.port2],
      );
    })`);
    expect(reply).toEqual({ type: 'qq-host-refused', reason: 'protocol version mismatch: host 1, facade 999' });
  });
});
