/**
 * How a page starts the library's worker scripts: where they are, from which origin a page may
 * start them (a CDN, a sandboxed page), Trusted Types, cross-origin isolation, and runtimes that
 * have no Web Worker at all. browser-platform.ts builds the links on top.
 */
import { hostDeath } from '../shared/errors.js';

/**
 * Where the worker scripts are: beside this module (the built dist/browser/worker.js and
 * shared-worker.js, written as `new URL('./…', import.meta.url)` literally so that a bundler
 * that follows that pattern finds them), or where `workerUrl` says, with shared-worker.js beside
 * it.
 */
export function scripts(workerUrl: URL | undefined): { worker: URL; shared: URL } {
  if (workerUrl === undefined) {
    return { worker: new URL('./worker.js', import.meta.url), shared: new URL('./shared-worker.js', import.meta.url) };
  }
  return { worker: workerUrl, shared: new URL('./shared-worker.js', workerUrl) };
}

/** The page's origin: `self.origin`, not `location.origin`, which a sandboxed page's URL still has. */
const pageOrigin = (): string | undefined => (globalThis as { origin?: string }).origin;

/** A sandboxed page's origin is opaque: every URL is another origin to it. */
const OPAQUE_ORIGIN = 'null';

/** Whether the page is sandboxed (its origin opaque). */
export const isOpaqueOrigin = (): boolean => pageOrigin() === OPAQUE_ORIGIN;

/** Whether `url` is on the page's origin (where a page may start workers from). */
export const onPageOrigin = (url: URL): boolean => {
  const origin = pageOrigin();
  return origin === undefined || url.origin === origin;
};

/**
 * Whether this runtime has Web Workers: a browser page or worker has; a DOM emulation (jsdom in a
 * test runner) or an embedded webview may not.
 */
export const hasWorkers = (): boolean => typeof (globalThis as { Worker?: unknown }).Worker === 'function';

/** The Trusted Types policy the library creates to start its workers (a page may list it in CSP). */
const TRUSTED_TYPES_POLICY = 'qq-socket-worker';

interface ScriptUrlPolicy {
  createScriptURL(url: string): unknown;
}
/** undefined: not asked for yet; null: no Trusted Types here; a string: why the page refused it. */
let policy: ScriptUrlPolicy | null | string | undefined;

/**
 * A worker (`Kind`: Worker or SharedWorker) of the script at `url`. A page that enforces Trusted
 * Types (CSP `require-trusted-types-for 'script'`) takes a worker's URL only as a
 * TrustedScriptURL: it comes from a policy of ours, which only ever sees the URLs of our own
 * scripts (beside this module, or the `workerUrl` the app gave). Where the page's
 * `trusted-types` directive does not allow the name, the plain URL goes, and the refusal says
 * what to allow.
 */
export function newWorker<T>(
  Kind: new (url: string, options: WorkerOptions) => T,
  url: string,
  options: WorkerOptions,
): T {
  if (policy === undefined) {
    const tt = (globalThis as { trustedTypes?: { createPolicy(name: string, rules: object): ScriptUrlPolicy } })
      .trustedTypes;
    try {
      policy = tt?.createPolicy(TRUSTED_TYPES_POLICY, { createScriptURL: (u: string) => u }) ?? null;
    } catch {
      // The page's `trusted-types` directive does not list the name (or a second copy of the
      // library made it already, which needs 'allow-duplicates').
      policy = hostDeath.trustedTypes(TRUSTED_TYPES_POLICY);
    }
  }
  const trusted = policy === null || typeof policy === 'string' ? url : (policy.createScriptURL(url) as string);
  try {
    return new Kind(trusted, options);
  } catch (error) {
    if (typeof policy !== 'string') throw error;
    throw new Error(`${String((error as Error)?.message ?? error)} (${policy})`);
  }
}

/**
 * A worker running the script at `url`. A page may start a worker only from its own origin; for
 * a script elsewhere (the library imported from a CDN), a same-origin blob: module imports it,
 * which needs the same CORS the page's import of this module needed. A sandboxed page may start
 * no module worker from a blob: (Chromium fails it without a word), but a classic one: that one
 * loads the script with importScripts (worker.js is a plain script, valid as either).
 */
export function startWorker(url: URL): Worker {
  if (!hasWorkers()) throw new Error(hostDeath.noWorkers());
  const name = 'qq-socket-worker';
  if (onPageOrigin(url)) return newWorker(Worker, url.href, { type: 'module', name });
  const href = JSON.stringify(url.href);
  const opaque = isOpaqueOrigin();
  const failed = JSON.stringify(hostDeath.workerScript(url.href));
  const code = opaque
    ? `try { importScripts(${href}); } catch { postMessage({ type: 'qq-host-refused', reason: ${failed} }); close(); }`
    : `import ${href};`;
  const shim = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
  try {
    return newWorker(Worker, shim, { type: opaque ? 'classic' : 'module', name });
  } finally {
    URL.revokeObjectURL(shim); // the constructor has resolved it
  }
}

/**
 * Whether the page is cross-origin isolated (COOP + COEP, as pages that use SharedArrayBuffer
 * are): it runs a dedicated worker only if its script is served with a COEP of its own; the
 * browser refuses one that is not without saying why.
 */
export const isCrossOriginIsolated = (): boolean =>
  (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
