/**
 * The runtime's scheduling functions as they were when the library loaded, for everything it
 * schedules on the thread that may run a test. Fake timers installed afterwards (jest's
 * `useFakeTimers()` fakes queueMicrotask, setImmediate and performance too) would otherwise hold
 * the library's turn ends, batches and timeouts until the test advanced them, while its sockets
 * are real I/O that waits for no fake clock: every task hung. (React's scheduler keeps its own
 * references for the same reason.) Fakes installed before the library loads are what it gets.
 */
const g = globalThis as typeof globalThis & { setImmediate?: (fn: () => void) => unknown };

export const setTimeout: typeof globalThis.setTimeout = g.setTimeout.bind(g);
export const clearTimeout: typeof globalThis.clearTimeout = g.clearTimeout.bind(g);
export const queueMicrotask: typeof globalThis.queueMicrotask = g.queueMicrotask.bind(g);
/** Node only (undefined in browsers). */
export const setImmediate = g.setImmediate?.bind(g) as (fn: () => void) => void;

const performanceNow: () => number = g.performance?.now.bind(g.performance) ?? Date.now;
/** `performance.now()`. */
export const now = (): number => performanceNow();

/**
 * The longest delay setTimeout keeps (Node and browsers fire a longer one at once). A handshake
 * timeout or a heartbeat of 0, or of more than this (Infinity included), is none.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
