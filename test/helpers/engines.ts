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
 * (an expression, awaited if it is a Promise) whose JSON-able value comes back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { CHROMIUM } from './chromium-flags.mjs';

export type EngineName = 'chromium' | 'firefox' | 'webkit';
export const ENGINES: readonly EngineName[] = ['chromium', 'firefox', 'webkit'];

export interface Tab {
  goto(url: string): Promise<void>;
  /** Evaluates `script` (an expression) in the page; a Promise is awaited. The value must be JSON-able. */
  evaluate<T = unknown>(script: string): Promise<T>;
  close(): Promise<void>;
}

export interface Engine {
  name: EngineName;
  /** The browser's own name for its version, e.g. `firefox/153.8.0`. */
  version: string;
  /** A new tab of the same browser (same profile: its pages share workers, storage and locks). */
  newTab(options?: TabOptions): Promise<Tab>;
  close(): Promise<void>;
}

export interface TabOptions {
  /**
   * In a window of its own: Firefox and WebKit show only one tab of a window (the others are
   * hidden: no animation frames, throttled timers), Chromium (headless) every page. Tabs that must
   * all be shown at once, as in windows side by side, take this.
   */
  window?: boolean;
}

export interface LaunchOptions {
  /** Accept any certificate (vitest's pages and the suite's `tls: true` peer). */
  acceptInsecureCerts?: boolean;
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
  const browser = await launchChromium();
  const context = await browser.newContext({ ignoreHTTPSErrors: options.acceptInsecureCerts === true });
  return {
    name: 'chromium',
    version: `chromium/${browser.version()}`,
    newTab: async () => {
      const page = await context.newPage();
      return {
        goto: async (url) => void (await page.goto(url, { timeout: 0 })),
        evaluate: (script) => page.evaluate(script),
        close: () => page.close(),
      };
    },
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
    extraPrefsFirefox: { 'network.dns.disablePrefetch': true, 'network.prefetch-next': false },
  });
  return {
    name: 'firefox',
    version: await browser.version(),
    newTab: async (tabOptions) => {
      const page = await browser.newPage(tabOptions?.window ? { type: 'window' } : undefined);
      return {
        goto: async (url) => void (await page.goto(url, { timeout: 0 })),
        evaluate: <T>(script: string) => page.evaluate(script) as Promise<T>,
        close: () => page.close(),
      };
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
async function startXvfb(): Promise<{ display: string; stop(): void }> {
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

async function launchWebKit(options: LaunchOptions): Promise<Engine> {
  const { Builder } = await import('selenium-webdriver');
  const xvfb = process.env.QQ_WEBKIT_DISPLAY ? undefined : await startXvfb();
  const display = process.env.QQ_WEBKIT_DISPLAY ?? (xvfb?.display as string);
  const port = await freePort();
  const driverProcess = spawn(WEBKIT_DRIVER, [`--port=${port}`, '--host=127.0.0.1'], {
    stdio: 'ignore',
    env: { ...process.env, DISPLAY: display },
  });
  const stop = () => {
    driverProcess.kill();
    xvfb?.stop();
  };
  let driver: import('selenium-webdriver').WebDriver;
  try {
    await listening(port, driverProcess);
    driver = await new Builder()
      .usingServer(`http://127.0.0.1:${port}`)
      .withCapabilities({
        browserName: 'MiniBrowser',
        acceptInsecureCerts: options.acceptInsecureCerts === true,
        'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
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
  let first: string | undefined = current;
  return {
    name: 'webkit',
    version: `${capabilities.getBrowserName()}/${capabilities.getBrowserVersion()}`,
    newTab: async (tabOptions) => {
      let handle = first as string;
      if (first === undefined) {
        handle = await inTab(
          () => current,
          async () => {
            await driver.switchTo().newWindow(tabOptions?.window ? 'window' : 'tab');
            current = await driver.getWindowHandle();
            return current;
          },
        );
      }
      first = undefined;
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
