/**
 * Pipelines in real Chromium pages (issue 22): the app's stage runs in the Web Worker or the
 * SharedWorker, never in the page. A page held still while the server floods gets the latest
 * value per key, `skipped` exact; a shared socket runs its stage once and every tab gets every
 * value; `deliver: 'frame'` hands a page at most one batch of values per animation frame.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectWholeBook, type Got } from '../conformance/pipelines.js';
import { launchChromium, type StaticServer, startStaticServer } from '../helpers/chromium.js';
import { WAIT } from '../helpers/record.js';
import { startWsServer, type TestServer } from '../helpers/servers.js';

let browser: Browser;
let web: StaticServer;
let server: TestServer;
let context: BrowserContext;

beforeAll(async () => {
  [web, server, browser] = await Promise.all([startStaticServer(), startWsServer(), launchChromium()]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all([web?.close(), server?.close()]);
});
afterEach(async () => {
  await context?.close();
});

/** A page whose task runs `stage` of the fixture module; its values in `window.values`. */
async function openPage(
  path: string,
  stage: string,
  {
    backend = 'worker',
    share = false,
    deliver,
    holdAt,
  }: { backend?: string; share?: boolean; deliver?: string; holdAt?: string } = {},
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${web.origin}/`);
  await page.evaluate(`(async () => {
    const { createQQ } = await import('/dist/browser/index.js');
    window.values = [];
    window.events = [];
    window.qq = createQQ({ backend: ${JSON.stringify(backend)}, pipeline: '/fixtures/feed.pipeline.mjs' });
    window.task = qq.connectSocket({
      url: ${JSON.stringify(`${server.url}${path}`)},
      pipeline: ${JSON.stringify(stage)},
      share: ${share},
      ${deliver === undefined ? '' : `deliver: ${JSON.stringify(deliver)},`}
    });
    task.onMessage(({ data, key, skipped }) => values.push(key === undefined ? { data } : { data, key, skipped }));
    ${
      holdAt === undefined
        ? ''
        : `let held = false;
    task.onMessage(() => {
      if (held) return;
      held = true; // blocked at its first value, until the test releases it
      const x = new XMLHttpRequest();
      x.open('GET', ${JSON.stringify(holdAt)}, false);
      x.send();
    });`
    }
    task.onError(({ errMsg }) => events.push({ error: errMsg }));
    task.onClose(({ code }) => events.push({ close: code }));
    await new Promise((resolve) => task.onOpen(resolve));
  })()`);
  return page;
}

type Value = Got;
const values = (page: Page) => page.evaluate('window.values') as Promise<Value[]>;

describe.each(['worker', 'shared'])('a stage in the %s backend (Chromium)', (backend) => {
  it('gives a page held still the latest value per key, skipped exact, and no backlog', async () => {
    context = await browser.newContext();
    const n = 5000;
    const keys = 10;
    // Counted from this test on: the server's log holds earlier tests' connections too.
    const sawDone = () => server.log.received.flat().filter((m) => m === 'the stage saw done').length;
    const before = sawDone();
    const saw = () => sawDone() > before;
    // Held from its first value: the stage in the worker works through the whole book
    // meanwhile, and says so to the server when it saw the last message.
    const hold = web.holdPoint();
    const page = await openPage(`/book/${n}/${keys}`, 'book', { backend, holdAt: hold.path });
    await hold.arrived;
    const release = hold.release;
    await expect.poll(saw, WAIT).toBe(true);
    release();
    await expect.poll(async () => (await values(page)).at(-1), WAIT).toEqual({ data: { done: true } });
    const got = await values(page);
    expectWholeBook(got, n, keys);
    expect(got.length).toBeLessThan(n / 10); // the latest per key, not a backlog
    expect(got.some((v) => (v.skipped as number) > 0)).toBe(true);
    expect(await page.evaluate('window.events')).toEqual([]);
  });

  it("delivers at most one batch of values per animation frame with deliver: 'frame'", async () => {
    context = await browser.newContext();
    const n = 20_000;
    const page = await openPage(`/book/${n}/10`, 'book', { backend, deliver: 'frame' });
    // Counted per frame: the tasks that dispatched values between two animation frames.
    await page.evaluate(`(() => {
      window.most = 0;
      let tasks = 0;
      let inTask = false;
      task.onMessage(() => {
        if (inTask) return;
        inTask = true;
        tasks++;
        queueMicrotask(() => { inTask = false; });
      });
      const frame = () => {
        most = Math.max(most, tasks);
        tasks = 0;
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    })()`);
    await expect.poll(async () => (await values(page)).at(-1), WAIT).toEqual({ data: { done: true } });
    expectWholeBook(await values(page), n, 10);
    expect(await page.evaluate('most')).toBe(1);
  });
});

describe('a shared socket with a stage (Chromium, two pages)', () => {
  it('runs the stage once for the socket, and gives every tab every value', async () => {
    context = await browser.newContext();
    const before = server.log.accepted;
    const a = await openPage('/echo', 'talker', { backend: 'shared', share: true });
    const b = await openPage('/echo', 'talker', { backend: 'shared', share: true });
    expect(server.log.accepted - before).toBe(1);
    // One greeting from the host: the stage ran once, on open.
    await expect.poll(() => values(a), WAIT).toHaveLength(1);
    expect(server.log.received.at(-1)?.filter((m) => String(m).startsWith('hello from the host'))).toHaveLength(1);
    // A late joiner gets what the stage emits from now on; both get each value.
    await b.evaluate(`task.send({ data: 'from b' })`);
    for (const page of [a, b]) {
      await expect.poll(async () => (await values(page)).at(-1), WAIT).toEqual({ data: 'from b' });
    }
    await a.evaluate(`task.send({ data: { n: 1 } })`);
    for (const page of [a, b]) {
      await expect.poll(async () => (await values(page)).at(-1), WAIT).toEqual({ data: 'sent {"n":1}' });
    }
  });
});
