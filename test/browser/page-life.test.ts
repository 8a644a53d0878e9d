/**
 * Staying connected in real pages (issues 19 and 20): a shared socket that reconnects once for
 * two tabs (and tells both, through their logs too), in Chromium, Firefox and WebKit; retries
 * that wait while the page is offline, in Chromium and Firefox (WebKit's WebDriver cannot take a
 * page offline); and a page restored from the back/forward cache, whose worker's sockets the
 * browser closed meanwhile, in Chromium only (the engine whose cache keeps such a page, and the
 * one whose driver can turn the cache back on).
 */
import { describe, expect, it } from 'vitest';
import type { Tab } from '../helpers/engines.js';
import { describeEngines, type PageSuite } from '../helpers/page-suite.js';
import { settle, WAIT } from '../helpers/record.js';

const FAST = '{ minDelay: 1, maxDelay: 1, jitter: 0 }';

/**
 * A page whose task (`backend`, reconnecting unless told) records its events in `window.events`
 * and the host's log entries about it in `window.entries`.
 */
async function openPage(
  pages: PageSuite,
  path: string,
  {
    backend = 'shared',
    share = true,
    reconnect = FAST,
  }: { backend?: string; share?: boolean; reconnect?: string } = {},
): Promise<Tab> {
  const page = await pages.newTab();
  await page.goto(`${pages.web.origin}/`);
  await page.evaluate(`(async () => {
    const { createQQ } = await import('/dist/browser/index.js');
    window.entries = [];
    window.events = [];
    window.qq = createQQ({ backend: ${JSON.stringify(backend)}, log: (entry) => entries.push(entry) });
    window.task = qq.connectSocket({ url: ${JSON.stringify(`${pages.server.url}${path}`)}, share: ${share}, reconnect: ${reconnect} });
    task.onOpen(({ reconnected, attempt }) => events.push({ event: 'open', ...(reconnected ? { reconnected, attempt } : {}) }));
    task.onReconnect(({ attempt, code, errMsg }) => events.push({ event: 'reconnect', attempt, code, errMsg }));
    task.onMessage(({ data }) => events.push({ event: 'message', data }));
    task.onError(({ errMsg }) => events.push({ event: 'error', errMsg }));
    task.onClose(({ code, reason }) => events.push({ event: 'close', code, reason }));
    await new Promise((resolve) => task.onOpen(resolve));
  })()`);
  return page;
}

const events = (page: Tab) => page.evaluate('window.events') as Promise<Array<Record<string, unknown>>>;
const messages = (page: Tab, event = 'share') =>
  page.evaluate(`window.entries.filter((e) => e.event === ${JSON.stringify(event)}).map((e) => e.message)`);

const reconnecting = (pages: PageSuite) =>
  describe('a shared socket that reconnects', () => {
    it('reconnects once for both tabs; each hears onReconnect and the new onOpen, and logs it', async () => {
      const before = pages.server.log.accepted;
      const a = await openPage(pages, '/echo');
      const b = await openPage(pages, '/echo');
      expect(pages.server.log.accepted - before).toBe(1);
      // Each tab's log hears of the share's holders, from the shared worker.
      await expect
        .poll(() => messages(a), WAIT)
        .toEqual(['the shared socket has 1 holder', 'the shared socket has 2 holders']);
      await expect.poll(() => messages(b), WAIT).toEqual(['the shared socket has 2 holders']);
      pages.server.dropAll();
      const healed = [
        { event: 'open' },
        { event: 'reconnect', attempt: 1, code: 1006, errMsg: 'connection closed without a close frame' },
        { event: 'open', reconnected: true, attempt: 1 },
      ];
      for (const page of [a, b]) await expect.poll(() => events(page), WAIT).toEqual(healed);
      expect(pages.server.log.accepted - before).toBe(2); // one reconnect for both
      for (const page of [a, b]) {
        const reconnects = (await messages(page, 'reconnect')) as string[];
        expect(reconnects).toEqual([`retry 1 in 1 ms: 1006 connection closed without a close frame`]);
        expect(await messages(page, 'connect')).toEqual([`connect ${pages.server.url}/echo (shared)`]);
      }
      // Both still share it: a message from the server reaches both.
      for (const socket of pages.server.sockets) socket.send('after');
      for (const page of [a, b]) {
        await expect.poll(async () => (await events(page)).at(-1), WAIT).toEqual({ event: 'message', data: 'after' });
      }
    });

    it('shares a socket only between tasks that ask for the same reconnect and keepalive', async () => {
      const before = pages.server.log.accepted;
      const page = await openPage(pages, '/echo');
      await page.evaluate(`(async () => {
      const url = ${JSON.stringify(`${pages.server.url}/echo`)};
      const opened = (t) => new Promise((resolve) => t.onOpen(resolve));
      const same = qq.connectSocket({ url, share: true, reconnect: ${FAST} });
      const plain = qq.connectSocket({ url, share: true });
      const probing = qq.connectSocket({ url, share: true, reconnect: ${FAST}, keepalive: { interval: 60000, timeout: 60000, message: 'ping' } });
      await Promise.all([opened(same), opened(plain), opened(probing)]);
    })()`);
      // The page's task and `same` share one socket; `plain` and `probing` have their own.
      expect(pages.server.log.accepted - before).toBe(3);
    });

    it('keeps a task that joins a share during its outage CONNECTING until the socket opens again', async () => {
      const page = await openPage(pages, '/echo', { reconnect: '{ minDelay: 3000, maxDelay: 3000, jitter: 0 }' });
      pages.server.dropAll();
      await expect.poll(async () => (await events(page)).length, WAIT).toBe(2);
      await page.evaluate(`(() => {
      window.late = [];
      window.joiner = qq.connectSocket({ url: ${JSON.stringify(`${pages.server.url}/echo`)}, share: true, reconnect: { minDelay: 3000, maxDelay: 3000, jitter: 0 } });
      joiner.onOpen(() => late.push({ event: 'open', readyState: task.readyState }));
    })()`);
      // Only absence can be checked here: an open from the socket that was lost would come at once.
      await settle(300);
      expect(await page.evaluate('[late, joiner.readyState]')).toEqual([[], 0]);
      await expect.poll(() => page.evaluate('late'), WAIT).toEqual([{ event: 'open', readyState: 1 }]);
      expect((await events(page)).at(-1)).toEqual({ event: 'open', reconnected: true, attempt: 1 });
    });
  });

/** Takes the tab off the network or back on (the tests that call it run only where the driver can). */
function setOffline(tab: Tab, offline: boolean): Promise<void> {
  if (tab.setOffline === undefined) throw new Error('this engine cannot take a page offline');
  return tab.setOffline(offline);
}

// Not in WebKit: its WebDriver cannot take a page offline.
const offline = (pages: PageSuite) =>
  describe.skipIf(pages.name === 'webkit')('the page offline', () => {
    it('holds the first attempt of a reconnecting task while offline', async () => {
      const page = await pages.newTab();
      await page.goto(`${pages.web.origin}/`);
      // The library and its worker load while online (offline, even their scripts would not).
      await page.evaluate(`(async () => {
      const { createQQ } = await import('/dist/browser/index.js');
      window.events = [];
      window.qq = createQQ({ backend: 'worker' });
      const first = qq.connectSocket({ url: ${JSON.stringify(`${pages.server.url}/echo`)} });
      await new Promise((resolve) => first.onOpen(resolve));
    })()`);
      await setOffline(page, true);
      await expect.poll(() => page.evaluate('navigator.onLine'), WAIT).toBe(false);
      const accepted = pages.server.log.accepted;
      await page.evaluate(`(() => {
      window.task = qq.connectSocket({ url: ${JSON.stringify(`${pages.server.url}/echo`)}, reconnect: true });
      task.onOpen((r) => events.push({ event: 'open', ...(r.reconnected ? { reconnected: true } : {}) }));
      task.onReconnect(({ errMsg }) => events.push({ event: 'reconnect', errMsg }));
    })()`);
      // Only absence can be checked here: an attempt would have been made at once.
      await settle(500);
      expect([await events(page), pages.server.log.accepted]).toEqual([[], accepted]);
      expect(await page.evaluate('task.readyState')).toBe(0);
      await setOffline(page, false);
      await expect.poll(() => events(page), WAIT).toEqual([{ event: 'open' }]);
      expect(pages.server.log.accepted).toBe(accepted + 1);
    });

    it('holds retries while offline, and tries at once when back online', async () => {
      const page = await openPage(pages, '/echo', {
        backend: 'worker',
        share: false,
        reconnect: '{ minDelay: 1, maxDelay: 1 }',
      });
      const accepted = pages.server.log.accepted;
      await setOffline(page, true);
      await expect.poll(() => page.evaluate('navigator.onLine'), WAIT).toBe(false);
      pages.server.dropAll();
      await expect.poll(async () => (await events(page)).length, WAIT).toBe(2);
      // Only absence can be checked here: with 1 ms waits, an attempt would have come long ago.
      await settle(500);
      expect((await events(page)).map((e) => e.event)).toEqual(['open', 'reconnect']);
      expect(pages.server.log.accepted).toBe(accepted);
      await setOffline(page, false);
      await expect
        .poll(async () => (await events(page)).at(-1), WAIT)
        .toEqual({ event: 'open', reconnected: true, attempt: 1 });
      expect(pages.server.log.accepted).toBe(accepted + 1);
    });

    it('holds the first attempt of a host that starts while the page is offline', async () => {
      const page = await pages.newTab();
      await page.goto(`${pages.web.origin}/`);
      await page.evaluate(`(async () => {
      const { createQQ } = await import('/dist/browser/index.js');
      window.events = [];
      window.qq = createQQ({ backend: 'inline' });
    })()`);
      await setOffline(page, true);
      await expect.poll(() => page.evaluate('navigator.onLine'), WAIT).toBe(false);
      const accepted = pages.server.log.accepted;
      await page.evaluate(`(() => {
      window.task = qq.connectSocket({ url: ${JSON.stringify(`${pages.server.url}/echo`)}, reconnect: true });
      task.onOpen(() => events.push({ event: 'open' }));
      task.onReconnect(({ errMsg }) => events.push({ event: 'reconnect', errMsg }));
    })()`);
      // Only absence can be checked here: an attempt would have been made at once.
      await settle(500);
      expect([await events(page), pages.server.log.accepted, await page.evaluate('task.readyState')]).toEqual([
        [],
        accepted,
        0,
      ]);
      await setOffline(page, false);
      await expect.poll(() => events(page), WAIT).toEqual([{ event: 'open' }]);
    });

    it('counts from retry 1 again when the attempt made on coming back online fails', async () => {
      const page = await pages.newTab();
      await page.goto(`${pages.web.origin}/`);
      await page.evaluate(`(async () => {
      const { createQQ } = await import('/dist/browser/index.js');
      window.events = [];
      window.calls = 0;
      window.qq = createQQ({ backend: 'worker' });
      // The second attempt (the one the page coming back online starts) is refused.
      window.task = qq.connectSocket({
        url: () => (++calls === 2 ? ${JSON.stringify(`${pages.server.url}/status/503`)} : ${JSON.stringify(`${pages.server.url}/echo`)}),
        reconnect: { minDelay: 1, maxDelay: 1, jitter: 0 },
      });
      task.onOpen(({ attempt }) => events.push({ event: 'open', ...(attempt ? { attempt } : {}) }));
      task.onReconnect(({ attempt }) => events.push({ event: 'reconnect', attempt }));
      await new Promise((resolve) => task.onOpen(resolve));
    })()`);
      await setOffline(page, true);
      await expect.poll(() => page.evaluate('navigator.onLine'), WAIT).toBe(false);
      pages.server.dropAll();
      await expect.poll(() => events(page), WAIT).toEqual([{ event: 'open' }, { event: 'reconnect', attempt: 1 }]);
      await setOffline(page, false);
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
async function beforeCache(pages: PageSuite, page: Tab): Promise<void> {
  await page.evaluate(`(async () => {
      window.plain = [];
      window.other = qq.connectSocket({ url: ${JSON.stringify(`${pages.server.url}/echo`)} });
      other.onError(({ errMsg }) => plain.push({ event: 'error', errMsg }));
      other.onClose(({ code, reason }) => plain.push({ event: 'close', code, reason }));
      await new Promise((resolve) => other.onOpen(resolve));
      window.restored = new Promise((resolve) => addEventListener('pageshow', (e) => resolve(e.persisted)));
  })()`);
}

// Chromium only: its back/forward cache keeps a page whose worker holds a WebSocket (and closes
// the socket), which Playwright lets a test turn back on. Firefox's and WebKit's drivers leave
// their caches as they are; whether they keep such a page is not tested here.
const backForwardCache = (pages: PageSuite) =>
  describe.runIf(pages.name === 'chromium')('a page restored from the back/forward cache', () => {
    it('reconnects a task with reconnect at once, and tells one without why its socket closed', async () => {
      const page = await openPage(pages, '/echo', {
        backend: 'worker',
        share: false,
        reconnect: '{ minDelay: 60000, maxDelay: 60000 }',
      });
      await beforeCache(pages, page);
      await page.evaluate(`(() => {
      window.delays = [];
      task.onReconnect(({ delay }) => delays.push(delay));
    })()`);
      await page.goto(`${pages.web.origin}/?elsewhere`);
      // Back from the cache (Chromium closed both sockets of the page while it was there).
      await page.back();
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
      pages.server.dropAll();
      await expect.poll(() => page.evaluate('delays.length'), WAIT).toBe(2);
      // (The first retry came at once whatever delay it announced: see above.)
      const laterDelay = ((await page.evaluate('delays')) as number[])[1];
      expect(laterDelay).toBeGreaterThanOrEqual(30_000);
      const refused = `${pages.server.url}/status/503`;
      await page.evaluate(`(() => {
      window.after = [];
      const failing = qq.connectSocket({ url: ${JSON.stringify(refused)} });
      failing.onError(({ errMsg }) => after.push(errMsg));
    })()`);
      await expect.poll(() => page.evaluate('after'), WAIT).toEqual([`WebSocket connection to '${refused}' failed`]);
    });

    it('does the same for tasks of the shared backend: the tab let go of the shared worker as it was cached', async () => {
      // Chromium evicts a cached page that a shared worker posts to, and the shared worker closes
      // the tab's sockets as the tab leaves: whether the closes reach the page before it is frozen
      // (then it is restored) or after (then it is evicted, and back loads it afresh) is a race.
      // Tried until a page is restored; each try is a fresh page.
      let page: Tab | undefined;
      let before = 0;
      for (let attempt = 1; page === undefined; attempt++) {
        expect(attempt, 'a shared page restored from the cache in 10 tries').toBeLessThanOrEqual(10);
        before = pages.server.log.accepted;
        const candidate = await openPage(pages, '/echo', { backend: 'shared', share: true });
        await beforeCache(pages, candidate);
        await candidate.goto(`${pages.web.origin}/?elsewhere`);
        await candidate.back();
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
      expect(pages.server.log.accepted - before).toBe(3);
    });
  });

// One browser per engine for the file (Chromium's keeps the back/forward cache, which only the
// tests that navigate meet).
describeEngines(
  'staying connected',
  (pages) => {
    reconnecting(pages);
    offline(pages);
    backForwardCache(pages);
  },
  { launch: { backForwardCache: true } },
);
