/**
 * `sharing: 'leader'` (issue 20): where there is no SharedWorker (or the app asks for a leader),
 * the tabs of an origin elect one with a Web Lock, and its dedicated worker holds the shared
 * sockets for every tab. When the leader tab goes, the next tab leads: the sockets the old one
 * held end (onError + onClose(1006)) or, with `reconnect`, connect again through the new leader.
 * In every engine this machine has (engines.ts), each asserting the same answers.
 */
import { expect, it } from 'vitest';
import type { Tab } from '../helpers/engines.js';
import { describeEngines, type PageSuite } from '../helpers/page-suite.js';

const WAIT = { timeout: 50_000, interval: 50 };
const TEST_TIMEOUT = 120_000;
const LEADER_GONE = 'socket host died: the leader tab went away';

/** The script of a leader test's page. */
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
    await new Promise((resolve) => { task.onOpen(resolve); task.onClose(resolve); });
  })()`;

const series = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** What the tests of one engine use: how to open a tab, and how to send to every socket. */
function helpers(pages: PageSuite) {
  /**
   * Opens a tab (of the test's browsing context) whose instance (`options`, `sharing: 'leader'`
   * unless told) holds a task (`share: true` unless told) that records messages, errors,
   * reconnects and closes; `before` runs first. Resolves once the task opened or closed.
   */
  async function open(
    url: string,
    { options = "{ backend: 'shared', sharing: 'leader' }", task = '{ share: true }', before = '' } = {},
  ): Promise<Tab> {
    const tab = await pages.newTab();
    await tab.goto(`${pages.web.origin}/`);
    await tab.evaluate(tabScript(url, options, task, before));
    return tab;
  }
  const broadcast = (prefix: string, n: number) => pages.server.broadcast(prefix, n);
  return { open, broadcast };
}

describeEngines('sharing: leader', (pages) => {
  const { open, broadcast } = helpers(pages);
  const { name } = pages;

  it(
    'gives two tabs one socket through the leader, every message to both; a close only detaches',
    async () => {
      const before = pages.server.log.accepted;
      const a = await open(`${pages.server.url}/sink`);
      const b = await open(`${pages.server.url}/sink`);
      expect(pages.server.log.accepted - before).toBe(1);
      broadcast('m', 100);
      await expect.poll(() => a.evaluate('window.got'), WAIT).toEqual(series('m', 100));
      await expect.poll(() => b.evaluate('window.got'), WAIT).toEqual(series('m', 100));
      // Sends from both tabs reach the one socket.
      await a.evaluate(`task.send({ data: "from a in ${name}" })`);
      await b.evaluate(`task.send({ data: "from b in ${name}" })`);
      await expect
        .poll(() => pages.server.log.received.flat().filter((m) => String(m).endsWith(` in ${name}`)), WAIT)
        .toEqual([`from a in ${name}`, `from b in ${name}`]);
      // The follower leaves with its own code; the socket stays for the leader.
      await b.evaluate('task.close({ code: 4001 })');
      await expect.poll(() => b.evaluate('window.events'), WAIT).toEqual(['open', { close: 4001 }]);
      broadcast('n', 5);
      await expect
        .poll(async () => (await a.evaluate<string[]>('window.got')).slice(100), WAIT)
        .toEqual(series('n', 5));
      expect(await b.evaluate('window.got.length')).toBe(100);
      expect(pages.server.log.accepted - before).toBe(1);
      // The last holder's close closes the socket.
      const closed = pages.server.log.closes.length;
      await a.evaluate('task.close()');
      await pages.server.closed(closed + 1);
      expect(pages.server.log.closes.at(-1)?.code).toBe(1000);
    },
    TEST_TIMEOUT,
  );

  it(
    'when the leader tab goes, its sockets end in every other tab (onError + onClose(1006)), and the next tab leads',
    async () => {
      const a = await open(`${pages.server.url}/sink`);
      const b = await open(`${pages.server.url}/sink`);
      const closed = pages.server.log.closes.length;
      await a.close(); // the leader: the first tab to stand
      await expect
        .poll(() => b.evaluate('window.events'), WAIT)
        .toEqual(['open', { error: LEADER_GONE }, { close: 1006 }]);
      await pages.server.closed(closed + 1); // the socket went with the leader's worker
      // B leads now: a new task opens through its own worker.
      const echoed = await b.evaluate(`(async () => {
        const task = qq.connectSocket({ url: ${JSON.stringify(`${pages.server.url}/echo`)}, share: true });
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
      const a = await open(`${pages.server.url}/sink`, { task });
      const b = await open(`${pages.server.url}/sink`, { task });
      const c = await open(`${pages.server.url}/sink`, { task });
      const before = pages.server.log.accepted;
      await a.close();
      const reconnected = ['open', { reconnect: 1 }, 'open'];
      await expect.poll(() => b.evaluate('window.events'), WAIT).toEqual(reconnected);
      await expect.poll(() => c.evaluate('window.events'), WAIT).toEqual(reconnected);
      // B and C share again: one new socket, and both get what it carries.
      expect(pages.server.log.accepted - before).toBe(1);
      broadcast('r', 3);
      await expect.poll(() => b.evaluate('window.got'), WAIT).toEqual(series('r', 3));
      await expect.poll(() => c.evaluate('window.got'), WAIT).toEqual(series('r', 3));
    },
    TEST_TIMEOUT,
  );

  it(
    "sharing: 'auto' elects a leader where there is no SharedWorker, without a warning",
    async () => {
      const before = pages.server.log.accepted;
      const options = {
        options: "{ backend: 'shared' }",
        before: 'Object.defineProperty(window, "SharedWorker", { value: undefined });',
      };
      const a = await open(`${pages.server.url}/sink`, options);
      const b = await open(`${pages.server.url}/sink`, options);
      expect(pages.server.log.accepted - before).toBe(1);
      broadcast('s', 3);
      await expect.poll(() => b.evaluate('window.got'), WAIT).toEqual(series('s', 3));
      expect(await a.evaluate('window.warnings')).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    "a leader whose worker script does not load fails every tab's task, saying why: error, then close 1006",
    async () => {
      const options = "{ backend: 'shared', sharing: 'leader', workerUrl: '/nowhere/worker.js' }";
      const failed = [
        // The leader's worker runs shared-worker.js, looked up beside workerUrl.
        { error: `socket host died: the worker script ${pages.web.origin}/nowhere/shared-worker.js failed to load` },
        { close: 1006 },
      ];
      const before = pages.server.log.accepted;
      const asked = pages.web.requests.length;
      const a = await open(`${pages.server.url}/sink`, { options }); // leads: its worker fails
      const b = await open(`${pages.server.url}/sink`, { options }); // joins the failed leader
      for (const tab of [a, b]) expect(await tab.evaluate('window.events')).toEqual(failed);
      expect(pages.server.log.accepted).toBe(before);
      // One worker tried: B did not lead a worker of its own (which would fail alike).
      expect(pages.web.requests.slice(asked).filter((path) => path === '/nowhere/shared-worker.js')).toEqual([
        '/nowhere/shared-worker.js',
      ]);
    },
    TEST_TIMEOUT,
  );

  // Chromium only: the wait is the library's own timer, the same in every engine, and 30 s long.
  it.runIf(name === 'chromium')(
    "a tab that no leader's worker answers fails its task after 30 s, saying so",
    async () => {
      // The leader's worker script never arrives (the server holds it): the leader has no host to answer.
      const script = pages.web.holdPoint();
      try {
        const options = `{ backend: 'shared', sharing: 'leader', workerUrl: '${script.path}/worker.js' }`;
        const started = Date.now();
        const a = await open(`${pages.server.url}/sink`, { options });
        await script.arrived; // the leader's worker did ask for it
        // Not before its time: the page started its 30 s wait after `started`.
        expect(Date.now() - started).toBeGreaterThan(29_000);
        expect(await a.evaluate('window.events')).toEqual([
          { error: 'socket host died: no leader tab answered within 30000 ms' },
          { close: 1006 },
        ]);
      } finally {
        script.release();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    "sharing: 'leader' without Web Locks runs a socket per tab, with one warning saying why",
    async () => {
      const before = pages.server.log.accepted;
      const options = { before: 'Object.defineProperty(navigator, "locks", { value: undefined });' };
      const a = await open(`${pages.server.url}/sink`, options);
      const b = await open(`${pages.server.url}/sink`, options);
      expect(pages.server.log.accepted - before).toBe(2);
      const warning =
        "qq-socket-worker: this page has no Web Locks (an insecure context: plain http:// other than localhost), which sharing 'leader' needs; using backend worker";
      expect(await a.evaluate('window.warnings')).toEqual([warning]);
      expect(await b.evaluate('window.warnings')).toEqual([warning]);
    },
    TEST_TIMEOUT,
  );
});

// Chromium only: Playwright turns its back/forward cache off unless asked (LaunchOptions), and
// Chromium is the engine that freezes a cached page's worker rather than ending it.
describeEngines(
  'sharing: leader and the back/forward cache',
  (pages) => {
    const { open } = helpers(pages);
    it(
      'a leader put in the cache steps down (its worker would be frozen with it): the next tab leads, and the page, shown again, rejoins',
      async () => {
        const task = '{ share: true, reconnect: { minDelay: 50, maxDelay: 200 } }';
        const a = await open(`${pages.server.url}/echo`, { task }); // the leader
        const b = await open(`${pages.server.url}/echo`, { task });
        await a.evaluate(
          `void (window.restored = new Promise((resolve) => addEventListener('pageshow', (e) => resolve(e.persisted))))`,
        );
        await a.goto(`${pages.web.origin}/?elsewhere`);
        // A stepped down on pagehide: B's socket went with A's worker, and B leads now.
        await expect.poll(() => b.evaluate('window.events'), WAIT).toEqual(['open', { reconnect: 1 }, 'open']);
        await b.evaluate('task.send({ data: "b leads" })');
        await expect.poll(() => b.evaluate('window.got'), WAIT).toEqual(['b leads']);
        await a.back();
        // Restored (no channel of A's is open to be posted to while it is cached: its lobby
        // channel closed as it stepped down, its link's channel hears only A's own dead worker).
        expect(await a.evaluate('typeof restored === "undefined" ? false : restored')).toBe(true);
        // Restored: its task heard that the cache took its socket, and rejoined through B.
        await expect.poll(() => a.evaluate('window.events'), WAIT).toEqual(['open', { reconnect: 1 }, 'open']);
        await a.evaluate('task.send({ data: "a is back" })');
        await expect.poll(() => a.evaluate('window.got'), WAIT).toEqual(['a is back']);
      },
      TEST_TIMEOUT,
    );
  },
  { engines: ['chromium'], launch: { backForwardCache: true } },
);
