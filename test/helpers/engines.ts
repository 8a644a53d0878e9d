/**
 * One way to drive a page in each engine the browser suites run in, all from Debian packages (no
 * browser download; scripts/setup.sh installs them):
 *
 * - `chromium`: Debian's Chromium through playwright-core, as chromium.ts launches it.
 * - `firefox`: firefox-esr through puppeteer-core over WebDriver BiDi (Playwright cannot drive a
 *   stock Firefox, and Debian has no geckodriver).
 * - `webkit`: WebKitGTK's MiniBrowser through its WebDriver (webkit2gtk-driver) and
 *   selenium-webdriver. MiniBrowser has no headless mode, so the adapter starts an X server of its
 *   own (Xvfb) unless `QQ_WEBKIT_DISPLAY` names one.
 *
 * Every engine gets the same small interface: tabs that go to a URL and evaluate a script string
 * (an expression, awaited if it is a Promise) whose JSON-able value comes back, in browsing
 * contexts that a test can start fresh and close as a whole.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { CHROMIUM } from './chromium-flags.mjs';

export type EngineName = 'chromium' | 'firefox' | 'webkit';
export const ENGINES: readonly EngineName[] = ['chromium', 'firefox', 'webkit'];

export interface Tab {
  goto(url: string): Promise<void>;
  /** Evaluates `script` (an expression) in the page; a Promise is awaited. The value must be JSON-able. */
  evaluate<T = unknown>(script: string): Promise<T>;
  /** The previous page of the tab's history, once its document is there (from the back/forward cache if it was kept). */
  back(): Promise<void>;
  close(): Promise<void>;
  /**
   * Takes the tab (Chromium: every tab of its context) off the network, or back on: the page sees
   * `navigator.onLine` and the `offline`/`online` events. Chromium and Firefox; WebKit's WebDriver
   * cannot (undefined there).
   */
  setOffline?(offline: boolean): Promise<void>;
  /** Kills the tab's renderer process (and what runs in it) without a word. Chromium only (CDP). */
  crash?(): Promise<void>;
}

/** Tabs that share workers, storage and locks with each other. */
export interface TabOptions {
  /**
   * In a window of its own: Firefox and WebKit show only one tab of a window (the others are
   * hidden: no animation frames, throttled timers), Chromium (headless) every page. Tabs that must
   * all be shown at once, as in windows side by side, take this.
   */
  window?: boolean;
}

export interface BrowsingContext {
  newTab(options?: TabOptions): Promise<Tab>;
  /** Closes every tab of the context. */
  close(): Promise<void>;
}

export interface Engine {
  name: EngineName;
  /** The browser's own name for its version, e.g. `firefox/153.8.0`. */
  version: string;
  /** A new tab of the same browser (same profile: its pages share workers, storage and locks). */
  newTab(options?: TabOptions): Promise<Tab>;
  /**
   * A fresh browsing context: in Chromium and Firefox an isolated one (a profile of its own, as a
   * private window is), sharing nothing with the other tabs of the browser. WebKit's WebDriver
   * (classic) has one profile per session: there it is a group of new tabs of that profile, and
   * isolation comes only from closing them all (their shared workers end with them).
   */
  newContext(): Promise<BrowsingContext>;
  close(): Promise<void>;
}

/**
 * A host name that resolves to 127.0.0.1 in every engine launched with `insecureHost`: a page
 * served under it is not a secure context (no Web Locks, no crypto.randomUUID), as on any plain
 * http:// site (127.0.0.1 and localhost are potentially trustworthy, so secure).
 */
export const INSECURE_HOST = 'insecure.test';

export interface LaunchOptions {
  /** Accept any certificate (vitest's pages and the suite's `tls: true` peer). */
  acceptInsecureCerts?: boolean;
  /**
   * {@link INSECURE_HOST} resolves to 127.0.0.1: in Chromium by a host resolver rule (always), in
   * Firefox by the pref `network.dns.localDomains`, in WebKit through an HTTP proxy of the
   * adapter's own that forwards every request to 127.0.0.1 (MiniBrowser's `--proxy`).
   */
  insecureHost?: boolean;
  /** Chromium: keep the back/forward cache, which Playwright turns off by default. */
  backForwardCache?: boolean;
}

export const FIREFOX = '/usr/bin/firefox-esr';
export const WEBKIT_DRIVER = '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const XVFB = '/usr/bin/Xvfb';

/** Why `name` cannot run on this machine (what to install), or undefined when it can. */
export function engineMissing(name: EngineName): string | undefined {
  const needs: Record<EngineName, Array<[string, string]>> = {
    chromium: [[CHROMIUM, 'chromium']],
    firefox: [[FIREFOX, 'firefox-esr']],
    webkit: [
      [WEBKIT_DRIVER, 'webkit2gtk-driver'],
      [MINIBROWSER, 'webkit2gtk-driver'],
      ...(process.env.QQ_WEBKIT_DISPLAY ? [] : ([[XVFB, 'xvfb']] as Array<[string, string]>)),
    ],
  };
  const missing = needs[name].filter(([file]) => !existsSync(file));
  if (missing.length === 0) return undefined;
  return `${name}: ${missing.map(([file]) => file).join(', ')} not installed (apt-get install ${[
    ...new Set(missing.map(([, pkg]) => pkg)),
  ].join(' ')}, as scripts/setup.sh does)`;
}

export function launchEngine(name: EngineName, options: LaunchOptions = {}): Promise<Engine> {
  const missing = engineMissing(name);
  if (missing) return Promise.reject(new Error(missing));
  switch (name) {
    case 'chromium':
      return launchChromiumEngine(options);
    case 'firefox':
      return launchFirefox(options);
    case 'webkit':
      return launchWebKit(options);
  }
}

async function launchChromiumEngine(options: LaunchOptions): Promise<Engine> {
  const { launchChromium } = await import('./chromium.js');
  const browser = await launchChromium({ backForwardCache: options.backForwardCache });
  const newContext = async (): Promise<BrowsingContext> => {
    const context = await browser.newContext({ ignoreHTTPSErrors: options.acceptInsecureCerts === true });
    return {
      newTab: async () => {
        const page = await context.newPage();
        return {
          goto: async (url) => void (await page.goto(url, { timeout: 0 })),
          evaluate: (script) => page.evaluate(script),
          back: async () => {
            await page.goBack({ waitUntil: 'commit', timeout: 0 });
            await page.waitForFunction('document.readyState !== "loading"', undefined, { timeout: 0 });
          },
          close: () => page.close(),
          setOffline: (offline) => context.setOffline(offline),
          crash: async () => {
            const cdp = await context.newCDPSession(page);
            const crashed = new Promise((resolve) => page.once('crash', resolve));
            void cdp.send('Page.crash').catch(() => {}); // never answers: the renderer is gone
            await crashed;
          },
        };
      },
      close: () => context.close(),
    };
  };
  const context = await newContext();
  return {
    name: 'chromium',
    version: `chromium/${browser.version()}`,
    newTab: () => context.newTab(),
    newContext,
    close: () => browser.close(),
  };
}

async function launchFirefox(options: LaunchOptions): Promise<Engine> {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    acceptInsecureCerts: options.acceptInsecureCerts === true,
    // Nothing but loopback: no updates, telemetry or remote settings.
    extraPrefsFirefox: {
      'network.dns.disablePrefetch': true,
      'network.prefetch-next': false,
      ...(options.insecureHost ? { 'network.dns.localDomains': INSECURE_HOST } : {}),
    },
  });
  type Opener = { newPage(options?: { type: 'window' }): Promise<import('puppeteer-core').Page> };
  const tabOf = async (opener: Opener, tabOptions?: TabOptions): Promise<Tab> => {
    const page = await opener.newPage(tabOptions?.window ? { type: 'window' } : undefined);
    return {
      goto: async (url) => void (await page.goto(url, { timeout: 0 })),
      evaluate: <T>(script: string) => page.evaluate(script) as Promise<T>,
      back: async () => {
        await page.goBack({ timeout: 0 });
        await page.waitForFunction('document.readyState !== "loading"', { timeout: 0 });
      },
      close: () => page.close(),
      setOffline: (offline) => page.setOfflineMode(offline),
    };
  };
  return {
    name: 'firefox',
    version: await browser.version(),
    newTab: (tabOptions) => tabOf(browser, tabOptions),
    newContext: async () => {
      // A BiDi user context: a container of its own (storage, workers, locks).
      const context = await browser.createBrowserContext();
      return { newTab: (tabOptions) => tabOf(context, tabOptions), close: () => context.close() };
    },
    close: () => browser.close(),
  };
}

/** A port on 127.0.0.1 free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts connections on the port (a process that exits first rejects). */
async function listening(port: number, child: ChildProcess): Promise<void> {
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited (${code ?? signal}) before listening on ${port}`;
  });
  for (;;) {
    if (exited) throw new Error(`${child.spawnfile} ${exited}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(socket.destroy() && true));
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** An X server on a display it picks itself (`-displayfd`), so that two never collide. */
export async function startXvfb(): Promise<{ display: string; stop(): void }> {
  const xvfb = spawn(XVFB, ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  xvfb.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const display = await new Promise<string>((resolve, reject) => {
    let out = '';
    (xvfb.stdio[3] as NodeJS.ReadableStream).on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited (${code}): ${stderr.trim()}`)));
  });
  return { display, stop: () => void xvfb.kill() };
}

/**
 * An HTTP proxy on 127.0.0.1 that sends every request, whatever its host, to the same port on
 * 127.0.0.1 (and tunnels CONNECT there too): how {@link INSECURE_HOST} reaches the suite's
 * servers in WebKit, which has no host resolver rule or DNS pref for it.
 */
async function startLoopbackProxy(): Promise<{ url: string; stop(): void }> {
  const proxy = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: url.port || 80,
        path: `${url.pathname}${url.search}`,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const upstream = net.connect(Number(new URL(`http://${req.url}`).port), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      client.pipe(upstream).pipe(client);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`,
    stop: () => {
      proxy.closeAllConnections();
      proxy.close();
    },
  };
}

async function launchWebKit(options: LaunchOptions): Promise<Engine> {
  const { Builder } = await import('selenium-webdriver');
  const xvfb = process.env.QQ_WEBKIT_DISPLAY ? undefined : await startXvfb();
  const display = process.env.QQ_WEBKIT_DISPLAY ?? (xvfb?.display as string);
  const proxy = options.insecureHost ? await startLoopbackProxy() : undefined;
  const port = await freePort();
  const driverProcess = spawn(WEBKIT_DRIVER, [`--port=${port}`, '--host=127.0.0.1'], {
    stdio: 'ignore',
    env: { ...process.env, DISPLAY: display },
  });
  const stop = () => {
    driverProcess.kill();
    xvfb?.stop();
    proxy?.stop();
  };
  let driver: import('selenium-webdriver').WebDriver;
  try {
    await listening(port, driverProcess);
    driver = await new Builder()
      .usingServer(`http://127.0.0.1:${port}`)
      .withCapabilities({
        browserName: 'MiniBrowser',
        acceptInsecureCerts: options.acceptInsecureCerts === true,
        'webkitgtk:browserOptions': {
          binary: MINIBROWSER,
          args: [
            '--automation',
            // Only the insecure host goes through the proxy: loopback by its address goes direct.
            ...(proxy ? [`--proxy=${proxy.url}`, '--ignore-host=127.0.0.1', '--ignore-host=localhost'] : []),
          ],
        },
      })
      .build();
    // A script may take as long as the test lets it (the tests bound themselves).
    await driver.manage().setTimeouts({ script: 3_600_000, pageLoad: 300_000 });
  } catch (error) {
    stop();
    throw error;
  }
  const capabilities = await driver.getCapabilities();
  /** One WebDriver session drives every tab: one command at a time, in the tab it is for. */
  let queue: Promise<unknown> = Promise.resolve();
  let current = await driver.getWindowHandle();
  const inTab = <T>(handle: () => string, action: () => Promise<T>): Promise<T> => {
    const run = queue.then(async () => {
      if (current !== handle()) {
        await driver.switchTo().window(handle());
        current = handle();
      }
      return action();
    });
    queue = run.catch(() => {});
    return run;
  };
  const openWindow = (tabOptions?: TabOptions) =>
    inTab(
      () => current,
      async () => {
        await driver.switchTo().newWindow(tabOptions?.window ? 'window' : 'tab');
        current = await driver.getWindowHandle();
        return current;
      },
    );
  const readyAfter = async (tab: () => string, navigate: () => Promise<void>) => {
    await inTab(tab, navigate);
    while ((await inTab(tab, () => driver.executeScript('return document.readyState'))) === 'loading') {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const tabOf = (handle: string): Tab => {
    const tab = () => handle;
    return {
      goto: (url) => inTab(tab, () => driver.get(url)),
      evaluate: async <T>(script: string) => {
        const result = (await inTab(tab, () =>
          driver.executeAsyncScript(
            `const done = arguments[arguments.length - 1];
             Promise.resolve().then(() => (${script})).then(
               (value) => done({ value: value === undefined ? null : value }),
               (error) => done({ error: String((error && error.stack) || error) }),
             );`,
          ),
        )) as { value: T } | { error: string };
        if ('error' in result) throw new Error(result.error);
        return result.value;
      },
      back: () => readyAfter(tab, () => driver.navigate().back()),
      close: () =>
        inTab(tab, async () => {
          await driver.close();
          // Closing the last tab ends the session: then there is no other to go to.
          const [other] = await driver.getAllWindowHandles().catch(() => []);
          if (other !== undefined) {
            await driver.switchTo().window(other);
            current = other;
          }
        }),
    };
  };
  /** The session's first window, handed to the first newTab(); a context's tabs are new windows beside it. */
  let first: string | undefined = current;
  return {
    name: 'webkit',
    version: `${capabilities.getBrowserName()}/${capabilities.getBrowserVersion()}`,
    newTab: async (tabOptions) => {
      const handle = first ?? (await openWindow(tabOptions));
      first = undefined;
      return tabOf(handle);
    },
    newContext: async () => {
      const tabs = new Set<Tab>();
      return {
        newTab: async (tabOptions) => {
          const tab = tabOf(await openWindow(tabOptions));
          const close = tab.close;
          tabs.add(tab);
          tab.close = async () => {
            if (tabs.delete(tab)) await close();
          };
          return tab;
        },
        close: async () => {
          for (const tab of [...tabs]) await tab.close();
        },
      };
    },
    close: async () => {
      try {
        await queue;
        await driver.quit();
      } finally {
        stop();
      }
    },
  };
}
