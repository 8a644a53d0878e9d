/**
 * The setup the files of test/browser/ share (the files that drive pages themselves, not through
 * vitest's browser mode): for each engine, a describe block with one browser (engines.ts, skipped,
 * saying what to install, where the machine lacks it), its first tab, a static server for dist/
 * and a WebSocket server, started before its first test and closed after its last; and a fresh
 * browsing context per test, closed after it.
 */
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { type StaticServer, startStaticServer } from './chromium.js';
import {
  type BrowsingContext,
  ENGINES,
  type Engine,
  type EngineName,
  engineMissing,
  INSECURE_HOST,
  type LaunchOptions,
  launchEngine,
  type Tab,
  type TabOptions,
} from './engines.js';
import { settle } from './record.js';
import { startWsServer, type TestServer } from './servers.js';

export interface PageSuite {
  readonly name: EngineName;
  readonly engine: Engine;
  /** Serves dist/ and an empty page (chromium.ts). */
  readonly web: StaticServer;
  readonly server: TestServer;
  /** The static server under {@link INSECURE_HOST}: an origin that is not a secure context. */
  readonly insecureOrigin: string;
  /**
   * The browser's first tab, open (on about:blank until a test goes elsewhere) for the whole
   * block: a test closes the tabs it opens itself, and closing WebKit's last one would end its session.
   */
  readonly first: Tab;
  /**
   * A new tab in the current test's browsing context (started at its first tab, closed after the
   * test); `{ window: true }` for a tab shown in a window of its own (engines.ts, TabOptions).
   */
  newTab(options?: TabOptions): Promise<Tab>;
}

/** Registers the hooks of a page suite in `name` in the enclosing describe block. */
export function usePages(name: EngineName, options: LaunchOptions = {}): PageSuite {
  let engine: Engine | undefined;
  let web: StaticServer | undefined;
  let server: TestServer | undefined;
  let context: Promise<BrowsingContext> | undefined;
  let first: Tab | undefined;
  /** WebKit: a tab of the session's own, kept to look at the origin's locks between tests. */
  let probe: Tab | undefined;
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error(`the ${name} page suite has not started`);
    return value;
  };
  beforeAll(async () => {
    [web, server, engine] = await Promise.all([
      startStaticServer(),
      startWsServer(),
      launchEngine(name, { insecureHost: true, ...options }),
    ]);
    first = await engine.newTab();
  }, 90_000);
  afterEach(async () => {
    const closing = context;
    context = undefined;
    if (closing !== undefined) {
      await (await closing).close();
      // WebKit's contexts share one profile, and it ends a closed tab's shared worker a moment
      // later: a tab of the next test could join the dying one by its name. Wait until no shared
      // host holds its life lock (seen from a tab of the session's own, on the pages' origin).
      if (name === 'webkit') {
        probe ??= await started(engine).newTab();
        await probe.goto(`${started(web).origin}/`);
        const hosts = `navigator.locks.query().then((q) => q.held.filter((l) => l.name.startsWith('qq-socket-worker:host:')).length)`;
        for (let waited = 0; (await probe.evaluate<number>(hosts)) > 0 && waited < 10_000; waited += 50)
          await settle(50);
      }
    }
    // The sockets of the test's tabs close with them, but not always before close() returns
    // (WebKit ends a closed tab's shared worker a moment later): wait for them, so that none
    // closes during the next test (which counts closes). One that outlives its tab is cut.
    const ws = started(server);
    for (let waited = 0; ws.log.open > 0 && waited < 10_000; waited += 20) await settle(20);
    for (const socket of ws.sockets) socket.terminate();
    await ws.closed(ws.log.accepted);
  });
  afterAll(async () => {
    await engine?.close();
    await Promise.all([web?.close(), server?.close()]);
  });
  return {
    name,
    get engine() {
      return started(engine);
    },
    get web() {
      return started(web);
    },
    get server() {
      return started(server);
    },
    get first() {
      return started(first);
    },
    get insecureOrigin() {
      return started(web).origin.replace('127.0.0.1', INSECURE_HOST);
    },
    newTab: async (options) => {
      context ??= started(engine).newContext();
      return (await context).newTab(options);
    },
  };
}

/**
 * One describe block per engine in `engines` (all three unless told), each with its own
 * {@link usePages}: `body` defines the tests once for all. An engine this machine lacks is
 * skipped, its block's title saying what to install.
 */
export function describeEngines(
  title: string,
  body: (pages: PageSuite) => void,
  { engines = ENGINES, launch }: { engines?: readonly EngineName[]; launch?: LaunchOptions } = {},
): void {
  for (const name of engines) {
    const missing = engineMissing(name);
    describe.skipIf(missing !== undefined)(`${title} [${name}]${missing ? ` (skipped: ${missing})` : ''}`, () =>
      body(usePages(name, launch)),
    );
  }
}
