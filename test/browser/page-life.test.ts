/**
 * Staying connected in real Chromium pages (issue 19): a shared socket that reconnects once for
 * two tabs (and tells both, through their logs too); retries that wait while the page is
 * offline; and a page restored from the back/forward cache, whose worker's sockets Chromium
 * closed meanwhile.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, launchChromiumWithCache, type StaticServer, startStaticServer } from '../helpers/chromium.js';
import { settle, WAIT } from '../helpers/record.js';
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

const FAST = '{ minDelay: 1, maxDelay: 1, jitter: 0 }';

/**
 * A page whose task (`backend`, reconnecting unless told) records its events in `window.events`
 * and the host's log entries about it in `window.entries`.
 */
async function openPage(
  path: string,
  {
    backend = 'shared',
    share = true,
    reconnect = FAST,
  }: { backend?: string; share?: boolean; reconnect?: string } = {},
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${web.origin}/`);
  await page.evaluate(`(async () => {
    const { createQQ } = await import('/dist/browser/index.js');
    window.entries = [];
    window.events = [];
    window.qq = createQQ({ backend: ${JSON.stringify(backend)}, log: (entry) => entries.push(entry) });
    window.task = qq.connectSocket({ url: ${JSON.stringify(`${server.url}${path}`)}, share: ${share}, reconnect: ${reconnect} });
    task.onOpen(({ reconnected, attempt }) => events.push({ event: 'open', ...(reconnected ? { reconnected, attempt } : {}) }));
    task.onReconnect(({ attempt, code, errMsg }) => events.push({ event: 'reconnect', attempt, code, errMsg }));
    task.onMessage(({ data }) => events.push({ event: 'message', data }));
    task.onError(({ errMsg }) => events.push({ event: 'error', errMsg }));
    task.onClose(({ code, reason }) => events.push({ event: 'close', code, reason }));
    await new Promise((resolve) => task.onOpen(resolve));
  })()`);
  return page;
}

const events = (page: Page) => page.evaluate('window.events') as Promise<Array<Record<string, unknown>>>;
const messages = (page: Page, event = 'share') =>
  page.evaluate(`window.entries.filter((e) => e.event === ${JSON.stringify(event)}).map((e) => e.message)`);

describe('a shared socket that reconnects (Chromium, two pages)', () => {
  it('reconnects once for both tabs; each hears onReconnect and the new onOpen, and logs it', async () => {
    context = await browser.newContext();
    const before = server.log.accepted;
    const a = await openPage('/echo');
    const b = await openPage('/echo');
    expect(server.log.accepted - before).toBe(1);
    // Each tab's log hears of the share's holders, from the shared worker.
    await expect
      .poll(() => messages(a), WAIT)
      .toEqual(['the shared socket has 1 holder', 'the shared socket has 2 holders']);
    await expect.poll(() => messages(b), WAIT).toEqual(['the shared socket has 2 holders']);
    server.dropAll();
    const healed = [
      { event: 'open' },
      { event: 'reconnect', attempt: 1, code: 1006, errMsg: 'connection closed without a close frame' },
      { event: 'open', reconnected: true, attempt: 1 },
    ];
    for (const page of [a, b]) await expect.poll(() => events(page), WAIT).toEqual(healed);
    expect(server.log.accepted - before).toBe(2); // one reconnect for both
    for (const page of [a, b]) {
      const reconnects = (await messages(page, 'reconnect')) as string[];
      expect(reconnects).toEqual([`retry 1 in 1 ms: 1006 connection closed without a close frame`]);
      expect(await messages(page, 'connect')).toEqual([`connect ${server.url}/echo (shared)`]);
    }
    // Both still share it: a message from the server reaches both.
    for (const socket of server.sockets) socket.send('after');
    for (const page of [a, b]) {
      await expect.poll(async () => (await events(page)).at(-1), WAIT).toEqual({ event: 'message', data: 'after' });
    }
  });
});

describe('what a shared socket shares (Chromium, one page)', () => {
  it('shares a socket only between tasks that ask for the same reconnect and keepalive', async () => {
    context = await browser.newContext();
    const before = server.log.accepted;
    const page = await openPage('/echo');
    await page.evaluate(`(async () => {
      const url = ${JSON.stringify(`${server.url}/echo`)};
      const opened = (t) => new Promise((resolve) => t.onOpen(resolve));
      const same = qq.connectSocket({ url, share: true, reconnect: ${FAST} });
      const plain = qq.connectSocket({ url, share: true });
      const probing = qq.connectSocket({ url, share: true, reconnect: ${FAST}, keepalive: { interval: 60000, timeout: 60000, message: 'ping' } });
      await Promise.all([opened(same), opened(plain), opened(probing)]);
    })()`);
    // The page's task and `same` share one socket; `plain` and `probing` have their own.
    expect(server.log.accepted - before).toBe(3);
  });

  it('keeps a task that joins a share during its outage CONNECTING until the socket opens again', async () => {
    context = await browser.newContext();
    const page = await openPage('/echo', { reconnect: '{ minDelay: 3000, maxDelay: 3000, jitter: 0 }' });
    server.dropAll();
    await expect.poll(async () => (await events(page)).length, WAIT).toBe(2);
    await page.evaluate(`(() => {
      window.late = [];
      window.joiner = qq.connectSocket({ url: ${JSON.stringify(`${server.url}/echo`)}, share: true, reconnect: { minDelay: 3000, maxDelay: 3000, jitter: 0 } });
      joiner.onOpen(() => late.push({ event: 'open', readyState: task.readyState }));
    })()`);
    // Only absence can be checked here: an open from the socket that was lost would come at once.
    await settle(300);
    expect(await page.evaluate('[late, joiner.readyState]')).toEqual([[], 0]);
    await expect.poll(() => page.evaluate('late'), WAIT).toEqual([{ event: 'open', readyState: 1 }]);
    expect((await events(page)).at(-1)).toEqual({ event: 'open', reconnected: true, attempt: 1 });
  });
});

describe('the page offline (Chromium)', () => {
  it('holds the first attempt of a reconnecting task while offline', async () => {
    context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${web.origin}/`);
    // The library and its worker load while online (offline, even their scripts would not).
    await page.evaluate(`(async () => {
      const { createQQ } = await import('/dist/browser/index.js');
      window.events = [];
      window.qq = createQQ({ backend: 'worker' });
      const first = qq.connectSocket({ url: ${JSON.stringify(`${server.url}/echo`)} });
      await new Promise((resolve) => first.onOpen(resolve));
    })()`);
    await context.setOffline(true);
    await expect.poll(() => page.evaluate('navigator.onLine'), WAIT).toBe(false);
    const accepted = server.log.accepted;
    await page.evaluate(`(() => {
      window.task = qq.connectSocket({ url: ${JSON.stringify(`${server.url}/echo`)}, reconnect: true });
      task.onOpen((r) => events.push({ event: 'open', ...(r.reconnected ? { reconnected: true } : {}) }));
      task.onReconnect(({ errMsg }) => events.push({ event: 'reconnect', errMsg }));
    })()`);
    // Only absence can be checked here: an attempt would have been made at once.
    await settle(500);
    expect([await events(page), server.log.accepted]).toEqual([[], accepted]);
    expect(await page.evaluate('task.readyState')).toBe(0);
    await context.setOffline(false);
    await expect.poll(() => events(page), WAIT).toEqual([{ event: 'open' }]);
    expect(server.log.accepted).toBe(accepted + 1);
  });

  it('holds retries while offline, and tries at once when back online', async () => {
    context = await browser.newContext();
    const page = await openPage('/echo', {
      backend: 'worker',
      share: false,
      reconnect: '{ minDelay: 1, maxDelay: 1 }',
    });
    const accepted = server.log.accepted;
    await context.setOffline(true);
    await expect.poll(() => page.evaluate('navigator.onLine'), WAIT).toBe(false);
    server.dropAll();
    await expect.poll(async () => (await events(page)).length, WAIT).toBe(2);
    // Only absence can be checked here: with 1 ms waits, an attempt would have come long ago.
    await settle(500);
    expect((await events(page)).map((e) => e.event)).toEqual(['open', 'reconnect']);
    expect(server.log.accepted).toBe(accepted);
    await context.setOffline(false);
    await expect
      .poll(async () => (await events(page)).at(-1), WAIT)
      .toEqual({ event: 'open', reconnected: true, attempt: 1 });
    expect(server.log.accepted).toBe(accepted + 1);
  });
});

describe('the page offline, more (Chromium)', () => {
  it('holds the first attempt of a host that starts while the page is offline', async () => {
    context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${web.origin}/`);
    await page.evaluate(`(async () => {
      const { createQQ } = await import('/dist/browser/index.js');
      window.events = [];
      window.qq = createQQ({ backend: 'inline' });
    })()`);
    await context.setOffline(true);
    await expect.poll(() => page.evaluate('navigator.onLine'), WAIT).toBe(false);
    const accepted = server.log.accepted;
    await page.evaluate(`(() => {
      window.task = qq.connectSocket({ url: ${JSON.stringify(`${server.url}/echo`)}, reconnect: true });
      task.onOpen(() => events.push({ event: 'open' }));
      task.onReconnect(({ errMsg }) => events.push({ event: 'reconnect', errMsg }));
    })()`);
    // Only absence can be checked here: an attempt would have been made at once.
    await settle(500);
    expect([await events(page), server.log.accepted, await page.evaluate('task.readyState')]).toEqual([
      [],
      accepted,
      0,
    ]);
    await context.setOffline(false);
    await expect.poll(() => events(page), WAIT).toEqual([{ event: 'open' }]);
  });

  it('counts from retry 1 again when the attempt made on coming back online fails', async () => {
    context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${web.origin}/`);
    await page.evaluate(`(async () => {
      const { createQQ } = await import('/dist/browser/index.js');
      window.events = [];
      window.calls = 0;
      window.qq = createQQ({ backend: 'worker' });
      // The second attempt (the one the page coming back online starts) is refused.
      window.task = qq.connectSocket({
        url: () => (++calls === 2 ? ${JSON.stringify(`${server.url}/status/503`)} : ${JSON.stringify(`${server.url}/echo`)}),
        reconnect: { minDelay: 1, maxDelay: 1, jitter: 0 },
      });
      task.onOpen(({ attempt }) => events.push({ event: 'open', ...(attempt ? { attempt } : {}) }));
      task.onReconnect(({ attempt }) => events.push({ event: 'reconnect', attempt }));
      await new Promise((resolve) => task.onOpen(resolve));
    })()`);
    await context.setOffline(true);
    await expect.poll(() => page.evaluate('navigator.onLine'), WAIT).toBe(false);
    server.dropAll();
    await expect.poll(() => events(page), WAIT).toEqual([{ event: 'open' }, { event: 'reconnect', attempt: 1 }]);
    await context.setOffline(false);
    await expect
      .poll(() => events(page), WAIT)
      .toEqual([
        { event: 'open' },
        { event: 'reconnect', attempt: 1 },
        { event: 'reconnect', attempt: 1 },
        { event: 'open', attempt: 1 },
      ]);
    expect(await page.evaluate('calls')).toBe(3);
  });
});

/**
 * Before a page goes into the cache: a second task without reconnect (its events in
 * `window.plain`), and `window.restored`, whether the page came back from the cache.
 */
async function beforeCache(page: Page): Promise<void> {
  await page.evaluate(`(async () => {
      window.plain = [];
      window.other = qq.connectSocket({ url: ${JSON.stringify(`${server.url}/echo`)} });
      other.onError(({ errMsg }) => plain.push({ event: 'error', errMsg }));
      other.onClose(({ code, reason }) => plain.push({ event: 'close', code, reason }));
      await new Promise((resolve) => other.onOpen(resolve));
      window.restored = new Promise((resolve) => addEventListener('pageshow', (e) => resolve(e.persisted)));
  })()`);
}

describe('a page restored from the back/forward cache (Chromium)', () => {
  let cached: Browser;
  beforeAll(async () => {
    cached = await launchChromiumWithCache();
  }, 60_000);
  afterAll(async () => {
    await cached?.close();
  });

  it('reconnects a task with reconnect at once, and tells one without why its socket closed', async () => {
    context = await cached.newContext();
    const page = await openPage('/echo', {
      backend: 'worker',
      share: false,
      reconnect: '{ minDelay: 60000, maxDelay: 60000 }',
    });
    await beforeCache(page);
    await page.evaluate(`(() => {
      window.delays = [];
      task.onReconnect(({ delay }) => delays.push(delay));
    })()`);
    await page.goto(`${web.origin}/?elsewhere`);
    // Back from the cache (Chromium closed both sockets of the page while it was there).
    await page.goBack({ waitUntil: 'commit' });
    expect(await page.evaluate('restored')).toBe(true);
    // A 60 s backoff would still be waiting: the restore itself started the attempt.
    await expect
      .poll(async () => (await events(page)).at(-1), WAIT)
      .toEqual({ event: 'open', reconnected: true, attempt: 1 });
    expect((await events(page)).slice(1, 2)).toEqual([
      { event: 'reconnect', attempt: 1, code: 1006, errMsg: 'the page was put in the back/forward cache' },
    ]);
    await expect
      .poll(() => page.evaluate('plain'), WAIT)
      .toEqual([
        { event: 'error', errMsg: 'the page was put in the back/forward cache' },
        { event: 'close', code: 1006, reason: 'abnormal closure' },
      ]);
    // Once restored, a loss waits the backoff again, and errors say what they are.
    server.dropAll();
    await expect.poll(() => page.evaluate('delays.length'), WAIT).toBe(2);
    // (The first retry came at once whatever delay it announced: see above.)
    const laterDelay = ((await page.evaluate('delays')) as number[])[1];
    expect(laterDelay).toBeGreaterThanOrEqual(30_000);
    const refused = `${server.url}/status/503`;
    await page.evaluate(`(() => {
      window.after = [];
      const failing = qq.connectSocket({ url: ${JSON.stringify(refused)} });
      failing.onError(({ errMsg }) => after.push(errMsg));
    })()`);
    await expect.poll(() => page.evaluate('after'), WAIT).toEqual([`WebSocket connection to '${refused}' failed`]);
  });

  it('does the same for tasks of the shared backend: the tab let go of the shared worker as it was cached', async () => {
    context = await cached.newContext();
    // Chromium evicts a cached page that a shared worker posts to, and the shared worker closes
    // the tab's sockets as the tab leaves: whether the closes reach the page before it is frozen
    // (then it is restored) or after (then it is evicted, and back loads it afresh) is a race.
    // Tried until a page is restored; each try is a fresh page.
    let page: Page | undefined;
    let before = 0;
    for (let attempt = 1; page === undefined; attempt++) {
      expect(attempt, 'a shared page restored from the cache in 10 tries').toBeLessThanOrEqual(10);
      before = server.log.accepted;
      const candidate = await openPage('/echo', { backend: 'shared', share: true });
      await beforeCache(candidate);
      await candidate.goto(`${web.origin}/?elsewhere`);
      await candidate.goBack({ waitUntil: 'commit' });
      await candidate.waitForFunction('document.readyState !== "loading"');
      if ((await candidate.evaluate('typeof restored === "undefined" ? false : restored')) === true) page = candidate;
      else await candidate.close();
    }
    // Before, the shared host's shutdown of the tab reached them as destroy()'s 1001 close.
    await expect
      .poll(() => events(page), WAIT)
      .toEqual([
        { event: 'open' },
        { event: 'reconnect', attempt: 1, code: 1006, errMsg: 'the page was put in the back/forward cache' },
        { event: 'open', reconnected: true, attempt: 1 },
      ]);
    await expect
      .poll(() => page.evaluate('plain'), WAIT)
      .toEqual([
        { event: 'error', errMsg: 'the page was put in the back/forward cache' },
        { event: 'close', code: 1006, reason: 'abnormal closure' },
      ]);
    // The task works on the fresh host: an echo comes back.
    await page.evaluate(`task.send({ data: 'back' })`);
    await expect.poll(async () => (await events(page)).at(-1), WAIT).toEqual({ event: 'message', data: 'back' });
    expect(server.log.accepted - before).toBe(3);
  });
});
