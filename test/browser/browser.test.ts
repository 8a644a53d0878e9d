/**
 * The browser build in real Chromium, Firefox and WebKit, launched by us (helpers/page-suite.ts) rather
 * than by vitest's browser mode (where the conformance suite runs, *.browser.test.ts): what that
 * mode cannot show. The scenarios run inside the page; their event logs come back for exact
 * assertions here, each engine's own where it differs.
 */
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../src/shared/protocol.js';
import { type StaticServer, startStaticServer } from '../helpers/chromium.js';
import type { EngineName, Tab } from '../helpers/engines.js';
import { describeEngines } from '../helpers/page-suite.js';
import { startWsServer, type TestServer } from '../helpers/servers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let web: StaticServer;
let server: TestServer;
let untrusted: TestServer;

beforeAll(async () => {
  [web, server, untrusted] = await Promise.all([
    startStaticServer(),
    startWsServer(),
    startWsServer({ tls: 'untrusted' }),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([web?.close(), server?.close(), untrusted?.close()]);
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

/**
 * Page code: runs `before`, imports the build from `lib`, echoes the name of each of `backends`
 * on a fresh instance of it, then, given `workerUrl`, the message 'workerUrl' on `worker` with
 * that script; returns what it saw: echoes, errors, close codes and console.warn texts.
 */
const echoOnEachBackend = (
  lib: string,
  {
    backends = ['worker', 'shared', 'shared'],
    workerUrl,
    before = '',
  }: {
    /** A backend, or options (logged as `backend/sharing`). */
    backends?: Array<string | { backend: string; sharing: string }>;
    workerUrl?: string;
    before?: string;
  } = {},
) => `(async () => {
  ${before}
  const { createQQ } = await import(${JSON.stringify(lib)});
  const log = [];
  const warn = console.warn;
  console.warn = (text) => log.push({ warn: text });
  const echo = (qq, data) => new Promise((resolve) => {
    const task = qq.connectSocket({ url: ${JSON.stringify(`${server.url}/echo`)} });
    task.onOpen(() => task.send({ data }));
    task.onMessage(({ data }) => { log.push(data); task.close(); });
    task.onError(({ errMsg }) => log.push({ error: errMsg }));
    task.onClose(({ code }) => { log.push({ close: code }); resolve(); });
  });
  try {
    for (const backend of ${JSON.stringify(backends)}) {
      const qq = createQQ(typeof backend === 'string' ? { backend } : backend);
      await echo(qq, typeof backend === 'string' ? backend : backend.backend + '/' + backend.sharing);
      await qq.destroy();
    }
    if (${JSON.stringify(workerUrl ?? null)} !== null) {
      const qq = createQQ({ backend: 'worker', workerUrl: ${JSON.stringify(workerUrl ?? null)} });
      await echo(qq, 'workerUrl');
      await qq.destroy();
    }
  } catch (e) { log.push({ threw: e.name + ': ' + e.message }); }
  console.warn = warn;
  return log;
})()`;

/** The script paths the static server was asked for since `from` (its request count then). */
const scriptsSince = (from: number) => web.requests.slice(from).filter((path) => path.endsWith('.js'));

it("resolves a bundler's browser imports and requires of the package to self-contained browser builds", async () => {
  // A consumer project, as a bundler for browsers sees it (the `browser` export condition).
  const dir = await mkdtemp(join(tmpdir(), 'qq-browser-consumer-'));
  /** The package files a bundle of `contents` took in, and whether it imports anything still. */
  const bundle = async (contents: string) => {
    const result = await build({
      stdin: { contents, resolveDir: dir },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: root,
    });
    // esbuild names inputs relative to its working directory, the package root.
    const inputs = Object.keys(result.metafile.inputs).map((path) =>
      path === '<stdin>' ? path : relative(root, resolve(root, path)),
    );
    // Self-contained: nothing left to import (a bare import of a Node module would fail the
    // build). The one import() left is the pipeline module's, of a URL the app gives at run time.
    const selfContained = !/\bimport\s*\(\s*["'`]|\bfrom\s*["']|\brequire\(/.test(result.outputFiles[0]?.text ?? '');
    return { inputs: inputs.sort(), selfContained };
  };
  try {
    await mkdir(join(dir, 'node_modules'));
    await symlink(root, join(dir, 'node_modules', 'qq-socket-worker'), 'dir');
    expect(
      await bundle("import { createQQ } from 'qq-socket-worker'; import 'qq-socket-worker/global'; createQQ();"),
    ).toEqual({ inputs: ['<stdin>', 'dist/browser/global.js', 'dist/browser/index.js'], selfContained: true });
    // CommonJS (code compiled to require(), as jest's Babel transform does): the CommonJS build.
    expect(
      await bundle("const { createQQ } = require('qq-socket-worker'); require('qq-socket-worker/global'); createQQ();"),
    ).toEqual({ inputs: ['<stdin>', 'dist/browser/global.cjs', 'dist/browser/index.cjs'], selfContained: true });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

describeEngines('browser build', (pages) => {
  const { name } = pages;
  const engine = () => pages.engine;
  let page: Tab;
  beforeAll(async () => {
    page = pages.first;
    await page.goto(`${web.origin}/`);
  }, 60_000);

  const inPage = (scenario: { backend: string; url: string; script: string }): Promise<unknown[]> =>
    page.evaluate(`(${HARNESS})(${JSON.stringify(scenario)})`);

  /** Runs `fn` on a fresh tab at `path` of the static server, then closes it. */
  async function onPage(path: string, fn: (tab: Tab) => Promise<void>): Promise<void> {
    const tab = await engine().newTab();
    try {
      await tab.goto(`${web.origin}${path}`);
      await fn(tab);
    } finally {
      await tab.close();
    }
  }
  /** {@link onPage} on the page served as `query` asks (`csp`: under that Content-Security-Policy; `isolated`: cross-origin isolated). */
  const onPageWith = (query: { csp?: string; isolated?: '1' }, fn: (tab: Tab) => Promise<void>) =>
    onPage(`/?${new URLSearchParams(query)}`, fn);

  // The conformance suite runs in vitest's browser mode (*.browser.test.ts), whose pages accept
  // any certificate. This browser does not: the refusal of an untrusted one is checked here.
  it.each(['worker', 'shared', 'inline'])(
    'refuses a wss server whose certificate the browser does not trust (%s): error, then close 1006',
    async (backend) => {
      const url = `${untrusted.url}/echo`;
      const log = await inPage({ backend, url, script: 'await watch(qq.connectSocket({ url }));' });
      expect(log).toEqual([
        { error: `WebSocket connection to '${url}' failed` },
        { close: { code: 1006, reason: 'abnormal closure' } },
      ]);
    },
  );

  it('runs the worker backend in a Web Worker and refuses unknown backends', async () => {
    const result = await page.evaluate<{ error: string }>(`(async () => {
      const { createQQ } = await import('/dist/browser/index.js');
      try {
        createQQ({ backend: 'thread' });
        return { error: '' };
      } catch (e) {
        return { error: e.name + ': ' + e.message };
      }
    })()`);
    expect(result.error).toBe("TypeError: createQQ: options.backend must be 'auto', 'worker', 'shared' or 'inline'");
    const from = web.requests.length;
    const log = await inPage({
      backend: 'worker',
      url: `${server.url}/echo`,
      script: `const t = qq.connectSocket({ url }); t.onOpen(() => t.close()); const closed = watch(t);
        log.push({ workers: qq[Symbol.for('qq-socket-worker.debug')].threads() }); await closed;`,
    });
    expect(log).toEqual([
      { workers: 1 },
      { open: { header: {}, profile: true } },
      { close: { code: 1000, reason: '' } },
    ]);
    expect(scriptsSince(from)).toEqual(['/dist/browser/worker.js']);
  });

  it('installs globalThis.qq from /global: unchanged mini-program code runs in the page', async () => {
    const from = web.requests.length;
    await onPage('/', async (fresh) => {
      // no module loaded yet
      const log = await fresh.evaluate(`(async () => {
        await import('/dist/browser/global.js');
        const log = [];
        await new Promise((resolve) => {
          qq.onSocketOpen(() => qq.sendSocketMessage({ data: 'from the global qq', success: (r) => log.push(r.errMsg) }));
          qq.onSocketMessage(({ data }) => { log.push(data); qq.closeSocket({ code: 1000 }); });
          qq.onSocketClose(({ code }) => { log.push(code); resolve(); });
          qq.connectSocket({ url: ${JSON.stringify(`${server.url}/echo`)}, success: (r) => log.push(r.errMsg) });
        });
        await qq.destroy();
        return log;
      })()`);
      expect(log).toEqual(['connectSocket:ok', 'sendSocketMessage:ok', 'from the global qq', 1000]);
    });
    // /global holds no second copy of the facade: it imports the one beside it (which a page's
    // own import of it then reuses).
    expect(scriptsSince(from)).toEqual([
      '/dist/browser/global.js',
      '/dist/browser/index.js',
      '/dist/browser/worker.js',
    ]);
  });

  it.each(['worker', 'shared'])(
    'loads the %s host from where workerUrl says: relative to the page, absolute, or a URL',
    async (backend) => {
      const from = web.requests.length;
      const log = await page.evaluate(`(async () => {
        const { createQQ } = await import('/dist/browser/index.js');
        const log = [];
        for (const workerUrl of ['moved/worker.js', '/moved/worker.js', new URL('/moved/worker.js', location.href)]) {
          const qq = createQQ({ backend: ${JSON.stringify(backend)}, workerUrl });
          await new Promise((resolve) => {
            const task = qq.connectSocket({ url: ${JSON.stringify(`${server.url}/echo`)} });
            task.onOpen(() => task.send({ data: String(workerUrl) }));
            task.onMessage(({ data }) => { log.push(data); task.close(); });
            task.onError(({ errMsg }) => log.push(errMsg));
            task.onClose(resolve);
          });
          await qq.destroy();
        }
        return log;
      })()`);
      expect(log).toEqual(['moved/worker.js', '/moved/worker.js', `${web.origin}/moved/worker.js`]);
      // The shared host's script is looked up beside workerUrl; nothing came from dist/.
      expect(new Set(scriptsSince(from))).toEqual(
        new Set([backend === 'shared' ? '/moved/shared-worker.js' : '/moved/worker.js']),
      );
    },
  );

  it.each([
    ['worker', 'the worker script', 'worker.js'],
    ['shared', 'the shared worker script', 'shared-worker.js'],
  ])(
    'reports a %s script that does not load as the host dying: error, then close 1006',
    async (backend, what, file) => {
      const log = await page.evaluate(`(async () => {
      const { createQQ } = await import('/dist/browser/index.js');
      // The SharedWorker by name: \`auto\` elects a leader in WebKit (whose worker fails alike).
      const qq = createQQ({ backend: ${JSON.stringify(backend)}, sharing: 'shared-worker', workerUrl: '/nowhere/worker.js' });
      const log = [];
      await new Promise((resolve) => {
        const task = qq.connectSocket({ url: ${JSON.stringify(`${server.url}/echo`)} });
        task.onOpen(() => log.push('open'));
        task.onError(({ errMsg }) => log.push({ error: errMsg }));
        task.onClose((r) => { log.push({ close: r }); resolve(); });
      });
      await qq.destroy();
      return log;
    })()`);
      expect(log).toEqual([
        { error: `socket host died: ${what} ${web.origin}/nowhere/${file} failed to load` },
        { close: { code: 1006, reason: 'abnormal closure' } },
      ]);
    },
  );

  it("starts its host when the library comes from another origin (a CDN): shared elects a leader; sharing: 'shared-worker' falls back to worker, saying why", async () => {
    // localhost is this server under another origin; a page may not start a worker from there.
    const cdn = web.origin.replace('127.0.0.1', 'localhost');
    const sharedWorker = { backend: 'shared', sharing: 'shared-worker' };
    const backends = ['worker', 'shared', sharedWorker, sharedWorker];
    expect(await page.evaluate(echoOnEachBackend(`${cdn}/dist/browser/index.js`, { backends }))).toEqual([
      'worker',
      { close: 1000 },
      'shared', // sharing 'auto': a leader's worker, started as the worker backend's is
      { close: 1000 },
      {
        warn: `qq-socket-worker: a SharedWorker must come from the page's origin, and ${cdn}/dist/browser/shared-worker.js does not; using backend worker (serve shared-worker.js from this origin and pass workerUrl to share)`,
      },
      'shared/shared-worker',
      { close: 1000 },
      'shared/shared-worker', // warned once
      { close: 1000 },
    ]);
  });

  it("starts its worker from a CDN where the page's CSP allows blob: and the CDN for workers, and says what failed where not", async () => {
    const cdn = web.origin.replace('127.0.0.1', 'localhost');
    const failed = { error: `socket host died: the worker script ${cdn}/dist/browser/worker.js failed to load` };
    // The worker is a blob: module that imports worker.js, a module worker's import: both are
    // fetched as a worker's scripts, under worker-src (or script-src, where there is no worker-src).
    const policies: Array<[string, unknown]> = [
      [`worker-src 'self' blob: ${cdn}`, 'worker'],
      [`script-src 'self' ${cdn} blob:`, 'worker'],
      ["worker-src 'self' blob:", failed],
      // WebKit refuses the blob: in the constructor, in its own words; the others fire the
      // worker's error event, without a word.
      [
        `worker-src 'self' ${cdn}`,
        name === 'webkit' ? { error: 'socket host died: The operation is insecure.' } : failed,
      ],
      [
        `script-src 'self' ${cdn}`,
        name === 'webkit' ? { error: 'socket host died: The operation is insecure.' } : failed,
      ],
    ];
    const logs: Record<string, unknown[]> = {};
    for (const [csp] of policies) {
      await onPageWith({ csp }, async (strict) => {
        logs[csp] = await strict.evaluate(echoOnEachBackend(`${cdn}/dist/browser/index.js`, { backends: ['worker'] }));
      });
    }
    expect(logs).toEqual(
      Object.fromEntries(
        policies.map(([csp, first]) => [csp, [first, { close: typeof first === 'string' ? 1000 : 1006 }]]),
      ),
    );
  });

  it("reports workers the page's CSP forbids as the host dying, in the browser's words where it has any", async () => {
    await onPageWith({ csp: "worker-src 'none'" }, async (strict) => {
      // Scripts at a URL no earlier test started (the server reads `//` as `/`): a shared worker
      // already running there would be joined, not fetched (Firefox let such a page join one).
      const dir = `${web.origin}/dist//browser`;
      const log = await strict.evaluate(`(async () => {
        const { createQQ } = await import('/dist/browser/index.js');
        const log = [];
        // The SharedWorker by name: \`auto\` elects a leader in WebKit (a dedicated worker).
        for (const backend of ['worker', 'shared']) {
          const qq = createQQ({ backend, sharing: 'shared-worker', workerUrl: '${dir}/worker.js' });
          await new Promise((resolve) => {
            const task = qq.connectSocket({ url: ${JSON.stringify(`${server.url}/echo`)} });
            task.onOpen(() => log.push('open'));
            task.onError(({ errMsg }) => log.push({ error: errMsg }));
            task.onClose(({ code }) => { log.push({ close: code }); resolve(); });
          });
          await qq.destroy();
        }
        return log;
      })()`);
      const refusals: Record<EngineName, [string, string]> = {
        chromium: [
          `the worker script ${dir}/worker.js failed to load`,
          `the shared worker script ${dir}/shared-worker.js failed to load`,
        ],
        firefox: [
          `the worker script ${dir}/worker.js failed to load`,
          `the shared worker script ${dir}/shared-worker.js failed to load`,
        ],
        // WebKit throws from the constructors (SecurityError), the shared one with a wrong reason.
        webkit: ['The operation is insecure.', 'URL of the shared worker is cross-origin'],
      };
      const [worker, shared] = refusals[name];
      expect(log).toEqual([
        { error: `socket host died: ${worker}` },
        { close: 1006 },
        { error: `socket host died: ${shared}` },
        { close: 1006 },
      ]);
    });
  });

  it('runs in a sandboxed page (opaque origin): worker echoes, shared falls back to worker saying why', async () => {
    await onPageWith({ csp: 'sandbox allow-scripts' }, async (sandboxed) => {
      expect(await sandboxed.evaluate('self.origin')).toBe('null');
      // Why the library's worker there is a classic one: Chromium fails a module worker from a
      // blob: in such a page (its error event, without a message); Firefox and WebKit run it.
      const moduleFromBlob = await sandboxed.evaluate(`new Promise((resolve) => {
        const url = URL.createObjectURL(new Blob(['postMessage("ran")'], { type: 'text/javascript' }));
        const worker = new Worker(url, { type: 'module' });
        worker.onmessage = ({ data }) => resolve({ message: data });
        worker.onerror = ({ message }) => resolve({ error: message ?? '' });
      })`);
      expect(moduleFromBlob).toEqual(name === 'chromium' ? { error: '' } : { message: 'ran' });
      // The page's own origin is opaque: the build and its worker come from another one.
      const missing = `${web.origin}/nowhere/worker.js`;
      const log = await sandboxed.evaluate(
        echoOnEachBackend(`${web.origin}/dist/browser/index.js`, { workerUrl: missing }),
      );
      expect(log).toEqual([
        'worker',
        { close: 1000 },
        {
          warn: "qq-socket-worker: this page's origin is opaque (a sandboxed page), and such a page may not use a SharedWorker; using backend worker",
        },
        'shared',
        { close: 1000 },
        'shared', // warned once
        { close: 1000 },
        { error: `socket host died: the worker script ${missing} failed to load` },
        { close: 1006 },
      ]);
    });
  });

  it.each([
    ['no name list', "require-trusted-types-for 'script'"],
    ['its policy allowed', "require-trusted-types-for 'script'; trusted-types app qq-socket-worker"],
  ])('starts its workers in a page that enforces Trusted Types (%s)', async (_, csp) => {
    await onPageWith({ csp }, async (enforcing) => {
      // The page does enforce them: a plain URL is refused.
      const plain = `(() => { try { new Worker('/dist/browser/worker.js'); return 'taken'; } catch (e) { return e.name; } })()`;
      expect(await enforcing.evaluate(plain)).toBe('TypeError');
      expect(await enforcing.evaluate(echoOnEachBackend(`${web.origin}/dist/browser/index.js`))).toEqual([
        'worker',
        { close: 1000 },
        'shared',
        { close: 1000 },
        'shared',
        { close: 1000 },
      ]);
    });
  });

  it("says which Trusted Types policy to allow where the page's CSP does not allow it", async () => {
    await onPageWith({ csp: "require-trusted-types-for 'script'; trusted-types app" }, async (enforcing) => {
      // The SharedWorker's constructor by name: `auto` elects a leader in WebKit (a dedicated worker).
      const sharedWorker = { backend: 'shared', sharing: 'shared-worker' };
      const backends = ['worker', sharedWorker, sharedWorker];
      const log = await enforcing.evaluate(echoOnEachBackend(`${web.origin}/dist/browser/index.js`, { backends }));
      // The browser's own words first (each engine's), then ours.
      const words: Record<EngineName, (what: string) => string> = {
        chromium: (what) => `Failed to construct '${what}': This document requires 'TrustedScriptURL' assignment.`,
        firefox: (what) => `${what} constructor: Sink type mismatch violation blocked by CSP`,
        webkit: () => 'This assignment requires a TrustedScriptURL',
      };
      const refused = (what: string) => ({
        error: `socket host died: ${words[name](what)} (the page's CSP trusted-types must allow the policy 'qq-socket-worker')`,
      });
      expect(log).toEqual([
        refused('Worker'),
        { close: 1006 },
        refused('SharedWorker'),
        { close: 1006 },
        refused('SharedWorker'),
        { close: 1006 },
      ]);
    });
  });

  it('says what a cross-origin isolated page needs of the worker script, and runs with it', async () => {
    await onPageWith({ isolated: '1' }, async (isolated) => {
      expect(await isolated.evaluate('crossOriginIsolated')).toBe(true);
      // worker.js served without COEP, then with it (workerUrl); shared workers need none.
      const withCoep = `${web.origin}/dist/browser/worker.js?coep=1`;
      const log = await isolated.evaluate(
        echoOnEachBackend(`${web.origin}/dist/browser/index.js`, { workerUrl: withCoep }),
      );
      expect(log).toEqual([
        {
          error: `socket host died: the worker script ${web.origin}/dist/browser/worker.js failed to load (this page is cross-origin isolated: a worker script must be served with Cross-Origin-Embedder-Policy: require-corp or credentialless)`,
        },
        { close: 1006 },
        'shared',
        { close: 1000 },
        'shared',
        { close: 1000 },
        'workerUrl',
        { close: 1000 },
      ]);
    });
  });

  it('runs auto inline where there is no Web Worker (a DOM emulation), saying so once', async () => {
    await onPage('/', async (bare) => {
      const log = await bare.evaluate(
        echoOnEachBackend('/dist/browser/index.js', {
          backends: ['auto', 'auto', 'worker', 'shared'],
          before: 'delete window.Worker; delete window.SharedWorker;',
        }),
      );
      const noWorker = "socket host died: this runtime has no Web Worker (use backend 'inline')";
      expect(log).toEqual([
        { warn: 'qq-socket-worker: this runtime has no Web Worker; backend auto runs inline, on this thread' },
        'auto',
        { close: 1000 },
        'auto', // warned once
        { close: 1000 },
        { error: noWorker },
        { close: 1006 },
        { warn: 'qq-socket-worker: SharedWorker is not available; using backend worker' },
        { error: noWorker },
        { close: 1006 },
      ]);
    });
  });

  it('never throws from connectSocket when a worker cannot be constructed: the host died, the next one starts', async () => {
    // A browser that refuses workers to this page (as a sandboxed one does), by its constructor.
    const log = await page.evaluate(`(async () => {
      const { createQQ } = await import('/dist/browser/index.js');
      const qq = createQQ({ backend: 'worker' });
      const log = [];
      const connect = () => new Promise((resolve) => {
        const task = qq.connectSocket({ url: ${JSON.stringify(`${server.url}/echo`)} });
        task.onOpen(() => { log.push('open'); task.close(); });
        task.onError(({ errMsg }) => log.push({ error: errMsg }));
        task.onClose(({ code }) => { log.push({ close: code }); resolve(); });
      });
      const RealWorker = Worker;
      window.Worker = function () { throw new DOMException('workers are not allowed here', 'SecurityError'); };
      try {
        await connect();
      } catch (e) {
        log.push({ threw: e.name + ': ' + e.message });
      } finally {
        window.Worker = RealWorker;
      }
      log.push({ workers: qq[Symbol.for('qq-socket-worker.debug')].threads() }); // none was made
      await connect();
      await qq.destroy();
      return log;
    })()`);
    expect(log).toEqual([
      { error: 'socket host died: workers are not allowed here' },
      { close: 1006 },
      { workers: 0 },
      'open',
      { close: 1000 },
    ]);
  });

  it('refuses a workerUrl that is no URL, even relative to the page', async () => {
    const error = await page.evaluate(`(async () => {
      const { createQQ } = await import('/dist/browser/index.js');
      try { createQQ({ workerUrl: 'http://[' }); return ''; } catch (e) { return e.name + ': ' + e.message; }
    })()`);
    expect(error).toBe(
      'TypeError: createQQ: options.workerUrl must be a URL, or a string that is one (relative to the page)',
    );
  });

  it("gives a newer build's tabs a shared worker of their own while an older build's tab holds one at the same URL", async () => {
    // A tab of the build before: its SharedWorker, under that build's name, runs the URL's
    // content of that time (a host one protocol version lower).
    web.olderSharedHost(true);
    const oldTab = await engine().newTab();
    try {
      await oldTab.goto(`${web.origin}/`);
      const refused = await oldTab.evaluate(`new Promise((resolve) => {
        window.held = new SharedWorker('/dist/browser/shared-worker.js', { type: 'module', name: 'qq-socket-worker' });
        const data = new MessageChannel();
        const control = new MessageChannel();
        // (The worker names its run first, on every port: qq-host-alive.)
        held.port.onmessage = (event) => event.data.type !== 'qq-host-alive' && resolve(event.data);
        held.port.postMessage(
          { type: 'qq-host-init', config: { protocolVersion: ${PROTOCOL_VERSION}, maxPayload: 1, tls: undefined }, data: data.port2, control: control.port2 },
          [data.port2, control.port2],
        );
      })`);
      expect(refused).toEqual({
        type: 'qq-host-refused',
        reason: `protocol version mismatch: host ${PROTOCOL_VERSION - 1}, facade ${PROTOCOL_VERSION}`,
      });
      web.olderSharedHost(false); // the new build is deployed at the same URL
      await onPage('/', async (newTab) => {
        const log = await newTab.evaluate(`(async () => {
          const { createQQ } = await import('/dist/browser/index.js');
          const qq = createQQ({ backend: 'shared' });
          const log = [];
          await new Promise((resolve) => {
            const task = qq.connectSocket({ url: ${JSON.stringify(`${server.url}/echo`)} });
            task.onOpen(() => task.send({ data: 'new build' }));
            task.onMessage(({ data }) => { log.push(data); task.close(); });
            task.onError(({ errMsg }) => log.push({ error: errMsg }));
            task.onClose(resolve);
          });
          await qq.destroy();
          return log;
        })()`);
        expect(log).toEqual(['new build']);
      });
    } finally {
      web.olderSharedHost(false);
      await oldTab.close();
    }
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
    expect(reply).toEqual({
      type: 'qq-host-refused',
      reason: `protocol version mismatch: host ${PROTOCOL_VERSION}, facade 999`,
    });
  });
});
