/**
 * The Web Locks the shared backend's liveness rests on (docs/architecture.md "Shared
 * connections"): a tab holds a lock for its life, the shared worker one for its own, and each
 * waits on the other's. They exist only in secure contexts: elsewhere the heartbeat stands in.
 */

/** The part of `navigator.locks` the library uses. */
export interface LockManager {
  request(name: string, fn: () => Promise<void> | void): Promise<void>;
  request(name: string, options: { signal: AbortSignal }, fn: () => Promise<void> | void): Promise<void>;
}

/** This page's or worker's `navigator.locks`; undefined where there are none (an insecure context). */
export const webLocks = (): LockManager | undefined =>
  (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
