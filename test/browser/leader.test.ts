/**
 * `sharing: 'leader'` (issue 20): where there is no SharedWorker (or the app asks for a leader),
 * the tabs of an origin elect one with a Web Lock, and its dedicated worker holds the shared
 * sockets for every tab. When the leader tab goes, the next tab leads: the sockets the old one
 * held end (onError + onClose(1006)) or, with `reconnect`, connect again through the new leader.
 * In every engine this machine has (engines.ts), each asserting the same answers.
 */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type StaticServer, startStaticServer } from '../helpers/chromium.js';
import { ENGINES, type Engine, engineMissing, launchEngine, type Tab } from '../helpers/engines.js';
import { startWsServer, type TestServer } from '../helpers/servers.js';

let web: StaticServer;
let server: TestServer;

beforeAll(async () => {
  [web, server] = await Promise.all([startStaticServer(), startWsServer()]);
});
afterAll(async () => {
  await Promise.all([web?.close(), server?.close()]);
});

const WAIT = { timeout: 50_000, interval: 50 };
const TEST_TIMEOUT = 120_000;
const LEADER_GONE = 'socket host died: the leader tab went away';

/** The script of {@link openTab}'s page. */
const tabScript = (url: string, options: string, task: string, before = '') => `(async () => {
    ${before}
    window.warnings = [];
    const warn = console.warn.bind(console);
    console.warn = (...args) => { warnings.push(args.join(' ')); warn(...args); };
    const { createQQ } = await import('/dist/browser/index.js');
    window.qq = createQQ(${options});
    window.got = [];
    window.events = [];
    window.task = qq.connectSocket({ url: ${JSON.stringify(url)}, ...${task} });
    task.onMessage(({ data }) => got.push(data));
    task.onError(({ errMsg }) => events.push({ error: errMsg }));
    task.onReconnect(({ attempt }) => events.push({ reconnect: attempt }));
    task.onOpen(() => events.push('open'));
    task.onClose(({ code }) => events.push({ close: code }));
    await new Promise((resolve) => task.onOpen(resolve));
  })()`;

/**
 * Opens a page whose instance (`options`, `sharing: 'leader'` unless told) holds a task (`share:
 * true` unless told) that records messages, errors, reconnects and closes; `before` runs first.
 */
async function openTab(
  engine: Engine,
  url: string,
  { options = "{ backend: 'shared', sharing: 'leader' }", task = '{ share: true }', before = '' } = {},
): Promise<Tab> {
  const tab = await engine.newTab();
  await tab.goto(`${web.origin}/`);
  await tab.evaluate(tabScript(url, options, task, before));
  return tab;
}

const broadcast = (prefix: string, n: number) => {
  for (const socket of server.sockets) for (let i = 0; i < n; i++) socket.send(`${prefix}${i}`);
};
const series = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

const available = ENGINES.filter((name) => {
  const missing = engineMissing(name);
  if (missing) console.warn(`${missing}: leader.test.ts skips it`);
  return missing === undefined;
});

describe.each(available)('sharing: leader (%s)', (name) => {
  let engine: Engine;
  /** Tabs a test opened: closed after it, so the next test elects afresh. */
  let tabs: Tab[] = [];
  const open = async (...args: Parameters<typeof openTab> extends [Engine, ...infer R] ? R : never) => {
    const tab = await openTab(engine, ...args);
    tabs.push(tab);
    return tab;
  };

  beforeAll(async () => {
    engine = await launchEngine(name);
    // A blank tab kept open: closing WebKit's last tab would end its WebDriver session.
    await (await engine.newTab()).goto(`${web.origin}/`);
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
  });
  afterEach(async () => {
    for (const tab of tabs.splice(0)) await tab.close().catch(() => {});
  });

  it(
    'gives two tabs one socket through the leader, every message to both; a close only detaches',
    async () => {
      const before = server.log.accepted;
      const a = await open(`${server.url}/sink`);
      const b = await open(`${server.url}/sink`);
      expect(server.log.accepted - before).toBe(1);
      broadcast('m', 100);
      await expect.poll(() => a.evaluate('window.got'), WAIT).toEqual(series('m', 100));
      await expect.poll(() => b.evaluate('window.got'), WAIT).toEqual(series('m', 100));
      // Sends from both tabs reach the one socket.
      await a.evaluate(`task.send({ data: "from a in ${name}" })`);
      await b.evaluate(`task.send({ data: "from b in ${name}" })`);
      await expect
        .poll(() => server.log.received.flat().filter((m) => String(m).endsWith(` in ${name}`)), WAIT)
        .toEqual([`from a in ${name}`, `from b in ${name}`]);
      // The follower leaves with its own code; the socket stays for the leader.
      await b.evaluate('task.close({ code: 4001 })');
      await expect.poll(() => b.evaluate('window.events'), WAIT).toEqual(['open', { close: 4001 }]);
      broadcast('n', 5);
      await expect
        .poll(async () => (await a.evaluate<string[]>('window.got')).slice(100), WAIT)
        .toEqual(series('n', 5));
      expect(await b.evaluate('window.got.length')).toBe(100);
      expect(server.log.accepted - before).toBe(1);
      // The last holder's close closes the socket.
      const closed = server.log.closes.length;
      await a.evaluate('task.close()');
      await server.closed(closed + 1);
      expect(server.log.closes.at(-1)?.code).toBe(1000);
    },
    TEST_TIMEOUT,
  );

  it(
    'when the leader tab goes, its sockets end in every other tab (onError + onClose(1006)), and the next tab leads',
    async () => {
      const a = await open(`${server.url}/sink`);
      const b = await open(`${server.url}/sink`);
      const closed = server.log.closes.length;
      await a.close(); // the leader: the first tab to stand
      tabs = tabs.filter((tab) => tab !== a);
      await expect
        .poll(() => b.evaluate('window.events'), WAIT)
        .toEqual(['open', { error: LEADER_GONE }, { close: 1006 }]);
      await server.closed(closed + 1); // the socket went with the leader's worker
      // B leads now: a new task opens through its own worker.
      const echoed = await b.evaluate(`(async () => {
        const task = qq.connectSocket({ url: ${JSON.stringify(`${server.url}/echo`)}, share: true });
        await new Promise((resolve) => task.onOpen(resolve));
        task.send({ data: 'through the new leader' });
        return new Promise((resolve) => task.onMessage(({ data }) => resolve(data)));
      })()`);
      expect(echoed).toBe('through the new leader');
    },
    TEST_TIMEOUT,
  );

  it(
    'with reconnect, a task whose leader went connects again through the new leader',
    async () => {
      const task = '{ share: true, reconnect: { minDelay: 50, maxDelay: 200 } }';
      const a = await open(`${server.url}/sink`, { task });
      const b = await open(`${server.url}/sink`, { task });
      const c = await open(`${server.url}/sink`, { task });
      const before = server.log.accepted;
      await a.close();
      tabs = tabs.filter((tab) => tab !== a);
      const reconnected = ['open', { reconnect: 1 }, 'open'];
      await expect.poll(() => b.evaluate('window.events'), WAIT).toEqual(reconnected);
      await expect.poll(() => c.evaluate('window.events'), WAIT).toEqual(reconnected);
      // B and C share again: one new socket, and both get what it carries.
      expect(server.log.accepted - before).toBe(1);
      broadcast('r', 3);
      await expect.poll(() => b.evaluate('window.got'), WAIT).toEqual(series('r', 3));
      await expect.poll(() => c.evaluate('window.got'), WAIT).toEqual(series('r', 3));
    },
    TEST_TIMEOUT,
  );

  it(
    "sharing: 'auto' elects a leader where there is no SharedWorker, without a warning",
    async () => {
      const before = server.log.accepted;
      const options = {
        options: "{ backend: 'shared' }",
        before: 'Object.defineProperty(window, "SharedWorker", { value: undefined });',
      };
      const a = await open(`${server.url}/sink`, options);
      const b = await open(`${server.url}/sink`, options);
      expect(server.log.accepted - before).toBe(1);
      broadcast('s', 3);
      await expect.poll(() => b.evaluate('window.got'), WAIT).toEqual(series('s', 3));
      expect(await a.evaluate('window.warnings')).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    "sharing: 'leader' without Web Locks runs a socket per tab, with one warning saying why",
    async () => {
      const before = server.log.accepted;
      const options = { before: 'Object.defineProperty(navigator, "locks", { value: undefined });' };
      const a = await open(`${server.url}/sink`, options);
      const b = await open(`${server.url}/sink`, options);
      expect(server.log.accepted - before).toBe(2);
      const warning =
        "qq-socket-worker: this page has no Web Locks (an insecure context: plain http:// other than localhost), which sharing 'leader' needs; using backend worker";
      expect(await a.evaluate('window.warnings')).toEqual([warning]);
      expect(await b.evaluate('window.warnings')).toEqual([warning]);
    },
    TEST_TIMEOUT,
  );
});

describe('sharing: leader and the back/forward cache (Chromium)', () => {
  let cached: Browser;
  beforeAll(async () => {
    cached = await launchChromium({ backForwardCache: true });
  }, 60_000);
  afterAll(async () => {
    await cached?.close();
  });

  it(
    'a leader put in the cache steps down (its worker would be frozen with it): the next tab leads, and the page, shown again, rejoins',
    async () => {
      const context = await cached.newContext();
      try {
        const task = '{ share: true, reconnect: { minDelay: 50, maxDelay: 200 } }';
        const open = async () => {
          const page = await context.newPage();
          await page.goto(`${web.origin}/`);
          await page.evaluate(tabScript(`${server.url}/echo`, "{ backend: 'shared', sharing: 'leader' }", task));
          return page;
        };
        const a = await open(); // the leader
        const b = await open();
        await a.evaluate(
          `void (window.restored = new Promise((resolve) => addEventListener('pageshow', (e) => resolve(e.persisted))))`,
        );
        await a.goto(`${web.origin}/?elsewhere`);
        // A stepped down on pagehide: B's socket went with A's worker, and B leads now.
        await expect.poll(() => b.evaluate('window.events'), WAIT).toEqual(['open', { reconnect: 1 }, 'open']);
        await b.evaluate('task.send({ data: "b leads" })');
        await expect.poll(() => b.evaluate('window.got'), WAIT).toEqual(['b leads']);
        await a.goBack({ waitUntil: 'commit' });
        await a.waitForFunction('document.readyState !== "loading"');
        // Restored (no channel of A's is open to be posted to while it is cached: its lobby
        // channel closed as it stepped down, its link's channel hears only A's own dead worker).
        expect(await a.evaluate('typeof restored === "undefined" ? false : restored')).toBe(true);
        // Restored: its task heard that the cache took its socket, and rejoined through B.
        await expect.poll(() => a.evaluate('window.events'), WAIT).toEqual(['open', { reconnect: 1 }, 'open']);
        await a.evaluate('task.send({ data: "a is back" })');
        await expect.poll(() => a.evaluate('window.got'), WAIT).toEqual(['a is back']);
      } finally {
        await context.close();
      }
    },
    TEST_TIMEOUT,
  );
});
