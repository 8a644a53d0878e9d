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

describe.each(['worker', 'inline'])('browser build, %s backend (Chromium)', (backend) => {
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
