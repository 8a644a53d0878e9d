/**
 * The runtime's scheduling functions as they were before any test faked them, for everything the
 * library schedules on the thread that may run a test. Fake timers (jest's `useFakeTimers()`
 * fakes queueMicrotask, setImmediate and performance too) would otherwise hold the library's
 * turn ends, batches and timeouts until the test advanced them, while its sockets are real I/O
 * that waits for no fake clock: every task hung. (React's scheduler keeps its own references for
 * the same reason.)
 *
 * Fakes installed after the library loaded are dodged by taking the functions at load. Fakes
 * installed before (jest's `fakeTimers: { enableGlobally: true }`, a setup file that fakes) are
 * dodged where they come from @sinonjs/fake-timers, which jest's modern timers, vitest and sinon
 * all use: it marks each fake with its `clock` and keeps the original as `clock._<name>` (the
 * mark is what Testing Library looks for too). On Node the timers and `performance` come from
 * Node's own modules, which no fake replaces (jest's legacy timers included). Other fakes
 * present at load are what the library gets (in a page: jest's legacy timers).
 */
type Faked = 'setTimeout' | 'clearTimeout' | 'queueMicrotask' | 'setImmediate' | 'performance';
const g = globalThis as typeof globalThis & { setImmediate?: (fn: () => void) => unknown };

/**
 * Node's `node:timers` and `node:perf_hooks`, where this is Node itself: not a page or a worker
 * of Electron's with Node integration, whose timers are the page's.
 */
const fromNode = ((): Partial<Pick<typeof g, Faked>> | undefined => {
  const scope = g as {
    window?: unknown;
    importScripts?: unknown;
    process?: { release?: { name?: string }; getBuiltinModule?: (id: string) => unknown };
  };
  const node = scope.process;
  if (node?.release?.name !== 'node' || scope.window !== undefined || scope.importScripts !== undefined) return;
  try {
    const timers = node.getBuiltinModule?.('node:timers') as Partial<Pick<typeof g, Faked>> | undefined;
    const hooks = node.getBuiltinModule?.('node:perf_hooks') as Partial<Pick<typeof g, 'performance'>> | undefined;
    return { ...timers, performance: hooks?.performance };
  } catch {
    return;
  }
})();

/** `g[name]` as Node's own modules have it, or as it was before @sinonjs/fake-timers replaced it. */
function unfaked<K extends Faked>(name: K): (typeof g)[K] {
  const own = fromNode?.[name];
  if (own !== undefined) return own as (typeof g)[K];
  const value = g[name];
  try {
    const clock = (value as { clock?: object } | undefined)?.clock;
    const saved = clock && Object.getOwnPropertyDescriptor(clock, `_${name}`);
    // jsdom's `performance` is a getter, and fake-timers keeps the getter.
    const original = saved?.get ? saved.get.call(g) : saved?.value;
    if (original && typeof original === typeof value) return original;
  } catch {
    // Whatever fake that was, it is what the library gets.
  }
  return value;
}

export const setTimeout: typeof globalThis.setTimeout = unfaked('setTimeout').bind(g);
export const clearTimeout: typeof globalThis.clearTimeout = unfaked('clearTimeout').bind(g);
export const queueMicrotask: typeof globalThis.queueMicrotask = unfaked('queueMicrotask').bind(g);
/** Node only (undefined in browsers). */
export const setImmediate = unfaked('setImmediate')?.bind(g) as (fn: () => void) => void;

const performance = unfaked('performance');
const performanceNow: () => number = performance?.now.bind(performance) ?? Date.now;
/** `performance.now()`. */
export const now = (): number => performanceNow();
/** `performance.timeOrigin` (0 where there is none: `now()` is then Date.now()). */
export const timeOrigin: number = performance?.timeOrigin ?? (performance ? Date.now() - performanceNow() : 0);

/** Absolute hi-res time in ms (`performance.timeOrigin + performance.now()`). */
export type Clock = () => number;
/** Absolute hi-res ms, comparable across threads and workers of one machine. */
export const clock: Clock = () => timeOrigin + now();

/**
 * The longest delay setTimeout keeps (Node and browsers fire a longer one at once). A handshake
 * timeout or a heartbeat of 0, or of more than this (Infinity included), is none.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
