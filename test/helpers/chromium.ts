/**
 * Debian's Chromium driven by playwright-core (no browser download), with the flags that work on
 * a machine without network, and a static server for dist/ and a blank page on 127.0.0.1.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium-flags.mjs';
import { INSECURE_HOST } from './engines.js';

export { INSECURE_HOST };

/**
 * Chromium, where {@link INSECURE_HOST} resolves to 127.0.0.1. With `backForwardCache`, it keeps
 * the back/forward cache, which Playwright turns off by default.
 */
export function launchChromium({ backForwardCache = false }: { backForwardCache?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${INSECURE_HOST} 127.0.0.1`],
    ...(backForwardCache ? { ignoreDefaultArgs: ['--disable-back-forward-cache'] } : {}),
  });
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.map': 'application/json',
  '.html': 'text/html',
};

export interface StaticServer {
  origin: string;
  requests: string[];
  /** While on, shared-worker.js is served as an older build's: one protocol version lower. */
  olderSharedHost(on: boolean): void;
  /**
   * Blocks the page's main thread until the promise it returns is called: a synchronous
   * XMLHttpRequest that this server answers only then. Resolves once the page is blocked. The
   * test decides when the page runs again, whatever the machine's speed, in any engine.
   */
  hold(page: { evaluate(script: string): Promise<unknown> }): Promise<() => void>;
  /**
   * A hold the page starts itself, from its own code, by a synchronous XMLHttpRequest to `path`
   * (for a page that must block at a moment only it sees, such as its first message): `arrived`
   * resolves once it is blocked, `release` lets it run again.
   */
  holdPoint(): { path: string; arrived: Promise<void>; release(): void };
  close(): Promise<void>;
}

/**
 * Serves the package root's dist/ under /dist/ (to any origin, as a CDN would), dist/browser/ again
 * under /moved/ (files a bundler moved) and under /own/<tag>/ (a SharedWorker of a test's own), test/fixtures/ under /fixtures/ (a pipeline module), an empty
 * page at / (`/?csp=<policy>`: under that CSP),
 * and `/hold/<n>` (and any file under it) for {@link StaticServer.hold}. `requests` lists every path asked for.
 */
export async function startStaticServer(): Promise<StaticServer> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const requests: string[] = [];
  let older = false;
  /** Held requests by number: `arrived` once the page asked, `release` answers it. */
  const holds = new Map<string, { arrived(): void; answer?: () => void }>();
  let holdCount = 0;
  const holdPoint = () => {
    const id = String(++holdCount);
    const arrived = new Promise<void>((resolve) => holds.set(id, { arrived: resolve }));
    const release = () => {
      holds.get(id)?.answer?.();
      holds.delete(id);
    };
    return { path: `/hold/${id}`, arrived, release };
  };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let path = normalize(decodeURIComponent(url.pathname));
    requests.push(path);
    const held = /^\/hold\/(\d+)(\/.*)?$/.exec(path); // any file under it too
    if (held) {
      const hold = holds.get(held[1] as string);
      if (hold === undefined) return void res.writeHead(404).end();
      hold.answer = () => res.writeHead(200, { 'content-type': 'text/plain' }).end('released');
      hold.arrived();
      return;
    }
    if (path.startsWith('/moved/')) path = `/dist/browser/${path.slice('/moved/'.length)}`;
    // `/own/<tag>/`: the build again, under a path of its own (a SharedWorker no other test reaches).
    const own = /^\/own\/[^/]+\/(.*)$/.exec(path);
    if (own) path = `/dist/browser/${own[1]}`;
    // The tests' fixtures (a pipeline module), as an app would serve its own scripts.
    if (path.startsWith('/fixtures/')) path = `/test${path}`;
    /** `?coep=1` on any file, `?isolated=1` on the page: served with COEP (the page with COOP too). */
    const coep = url.searchParams.has('coep') || url.searchParams.has('isolated');
    const headers = coep ? { 'cross-origin-embedder-policy': 'require-corp' } : {};
    if (path === '/') {
      // `/?csp=<policy>`: the page under that Content-Security-Policy; `/?isolated=1`: cross-origin isolated.
      const csp = url.searchParams.get('csp');
      res
        .writeHead(200, {
          'content-type': 'text/html',
          ...headers,
          ...(coep ? { 'cross-origin-opener-policy': 'same-origin' } : {}),
          ...(csp ? { 'content-security-policy': csp } : {}),
        })
        .end('<!doctype html><title>qq-socket-worker test</title>');
      return;
    }
    if (!path.startsWith('/dist/') && !path.startsWith('/test/fixtures/')) {
      res.writeHead(404).end();
      return;
    }
    try {
      let body: Buffer | string = await readFile(join(root, path));
      if (older && path === '/dist/browser/shared-worker.js') {
        body = body
          .toString()
          .replace(/var PROTOCOL_VERSION = (\d+);/, (_, v) => `var PROTOCOL_VERSION = ${Number(v) - 1};`);
      }
      // CORS: a page of another origin may import the build, as from a CDN.
      res
        .writeHead(200, {
          'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
          'access-control-allow-origin': '*',
          ...headers,
        })
        .end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    requests,
    olderSharedHost: (on) => {
      older = on;
    },
    holdPoint,
    hold: async (page) => {
      const { path, arrived, release } = holdPoint();
      // From a task of its own, so that evaluate() returns before the page blocks.
      await page.evaluate(
        `setTimeout(() => { const x = new XMLHttpRequest(); x.open('GET', '${path}', false); x.send(); }, 0)`,
      );
      await arrived;
      return release;
    },
    close: () => {
      for (const hold of holds.values()) hold.answer?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
