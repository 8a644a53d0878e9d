// The browser bench's engines. Two ways to open its page in each:
//
// - `openPage` (how the bench measures): the browser started as a user starts it, with no DevTools,
//   BiDi or WebDriver client attached, given the page's URL; the page runs the bench itself and
//   posts its results back. Chromium headless; firefox-esr headless, in a fresh profile with the
//   preferences puppeteer gives it (no updates, telemetry or remote settings), its remote agent
//   off; WebKitGTK's MiniBrowser in a window on an X server of its own (Xvfb: it has no headless
//   mode), without `--automation`.
// - `--driven`: the same page opened through the test suites' engine adapter
//   (test/helpers/engines.ts: Chromium through Playwright over CDP, Firefox through puppeteer over
//   WebDriver BiDi, WebKit through WebKitWebDriver), to show what a client attached does.
//
// The adapter is TypeScript and the bench runs in Node as it is (20: no type stripping), so esbuild
// bundles the adapter into .cache/bench/ first; the packages it imports stay external.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const adapter = join(root, '.cache/bench/engines.mjs');
await build({
  entryPoints: [join(root, 'test/helpers/engines.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  outfile: adapter,
  logLevel: 'warning',
});
/** @type {typeof import('../test/helpers/engines.ts')} */
const engines = await import(pathToFileURL(adapter).href);
export const { ENGINES, engineMissing, launchEngine, FIREFOX, MINIBROWSER } = engines;
const { CHROMIUM, CHROMIUM_ARGS } = await import('../test/helpers/chromium-flags.mjs');

/** What `file --version`-like commands print, or `fallback`. */
const output = (file, args, fallback) => {
  try {
    return String(execFileSync(file, args, { stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 })).trim();
  } catch {
    return fallback;
  }
};

/** The engine's name and version as the bench's tables give them. */
export function engineVersion(name) {
  if (name === 'chromium') return output(CHROMIUM, ['--version'], 'Chromium').split(' ').slice(0, 2).join(' ');
  if (name === 'firefox') return output(FIREFOX, ['--version'], 'Firefox').replace(/^Mozilla /, '');
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format, not JavaScript's
  const version = output('dpkg-query', ['-W', '-f', '${Version}', 'libwebkit2gtk-4.1-0'], '').split(/[-+~]/)[0];
  return `WebKitGTK ${version} MiniBrowser`.replace('  ', ' ');
}

/** Starts `file` in a process group of its own (its helpers end with it); `close` ends the group. */
function group(file, args, env) {
  const child = spawn(file, args, { stdio: 'ignore', detached: true, env: { ...process.env, ...env } });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    child,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          child.kill();
        }
      }
      await exited;
    },
  };
}

/** An X server on a display it picks itself (`-displayfd`). */
async function xvfb() {
  const server = spawn('/usr/bin/Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  const display = await new Promise((resolve, reject) => {
    let out = '';
    server.stdio[3].on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
    server.once('exit', (code) => reject(new Error(`Xvfb exited (${code})`)));
  });
  return { display, close: () => server.kill() };
}

/**
 * Opens `url` in engine `name` with no client attached; resolves once the browser was started.
 * `close()` ends the browser and removes its profile.
 */
export async function openPage(name, url) {
  const profile = mkdtempSync(join(tmpdir(), `qq-bench-${name}-`));
  const cleanups = [];
  let browser;
  if (name === 'chromium') {
    browser = group(CHROMIUM, ['--headless', ...CHROMIUM_ARGS, `--user-data-dir=${profile}`, url]);
  } else if (name === 'firefox') {
    const { Browser, createProfile } = await import('@puppeteer/browsers');
    await createProfile(Browser.FIREFOX, {
      path: profile,
      preferences: { 'network.dns.disablePrefetch': true, 'network.prefetch-next': false },
    });
    browser = group(FIREFOX, ['--headless', '--no-remote', '--profile', profile, url]);
  } else {
    const x = process.env.QQ_WEBKIT_DISPLAY ? undefined : await xvfb();
    if (x) cleanups.push(x.close);
    const display = process.env.QQ_WEBKIT_DISPLAY ?? x.display;
    // Its data (caches, storage) in the fresh profile, not the user's home.
    browser = group(MINIBROWSER, [url], { DISPLAY: display, XDG_DATA_HOME: profile, XDG_CACHE_HOME: profile });
  }
  return {
    close: async () => {
      await browser.close();
      for (const cleanup of cleanups) cleanup();
      // Helpers may still be writing to the profile as the browser exits.
      rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
    },
  };
}

/** Opens `url` through the suites' adapter (CDP, BiDi or WebDriver attached). */
export async function openDriven(name, url) {
  const engine = await launchEngine(name);
  try {
    const tab = await engine.newTab();
    await tab.goto(url);
  } catch (error) {
    await engine.close().catch(() => {});
    throw error;
  }
  return { close: () => engine.close() };
}
