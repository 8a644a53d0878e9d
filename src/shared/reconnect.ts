/**
 * The rules of `connectSocket({ reconnect, keepalive })` that the facade and the host share:
 * the defaults, the backoff, and which ends a retry cannot fix (docs/semantics.md "Staying
 * connected").
 */
import type { KeepalivePolicy, ReconnectPolicy } from './protocol.js';

/** `reconnect: true`. */
export const DEFAULT_RECONNECT: ReconnectPolicy = {
  retries: Number.POSITIVE_INFINITY,
  minDelay: 500,
  maxDelay: 20_000,
  factor: 2,
  jitter: 0.5,
  queue: 1_048_576,
};

/** `keepalive: true`. */
export const DEFAULT_KEEPALIVE: KeepalivePolicy = { interval: 25_000, timeout: 10_000 };

/**
 * The wait before retry `attempt` of an outage (from 1): `min(maxDelay, minDelay * factor^(attempt
 * - 1))` scaled by a random factor in `[1 - jitter, 1]`, so that clients dropped together do not
 * come back together.
 */
export function backoffDelay(policy: ReconnectPolicy, attempt: number, random: () => number = Math.random): number {
  const { minDelay, maxDelay, factor, jitter } = policy;
  const base = Math.min(maxDelay, minDelay * factor ** (attempt - 1));
  return Math.round(base * (1 - jitter * random()));
}

/**
 * Close codes a retry cannot fix (RFC 6455 7.4.1): a protocol error, data the peer cannot take,
 * invalid data, a policy violation, a message too big, a missing extension. Whoever sent them.
 */
const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([1002, 1003, 1007, 1008, 1009, 1010]);

/** Whether a connection that ended with this close code, or a handshake refused with this HTTP status, is retried. */
export function isRetriable(closeCode: number, status: number | undefined): boolean {
  if (FINAL_CLOSE_CODES.has(closeCode)) return false;
  // 4xx is the client's fault (401, 403, 404...) except a timeout (408) and too many requests (429).
  return status === undefined || status < 400 || status > 499 || status === 408 || status === 429;
}
