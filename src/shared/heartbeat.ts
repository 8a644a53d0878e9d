/**
 * Liveness between a tab and the shared worker where there are no Web Locks (an insecure
 * context: plain http:// other than localhost). Neither side hears of the other dying there: a
 * MessagePort to a dead peer takes messages and drops them, and fires nothing. So the shared
 * worker beats each tab's port, the tab answers each beat as it comes (a message event: a hidden
 * tab's timers are throttled, its messages are not), and each side takes the other for gone
 * once it has heard nothing for the `heartbeat` option's span.
 */
import type { Beat } from './protocol.js';
import { clearTimeout, now, setTimeout } from './timers.js';

/** The default span (ms) of silence after which a peer is taken for gone. @default 30000 */
export const DEFAULT_HEARTBEAT_MS = 30_000;
/** The shortest span the option accepts: each side looks every fifth of it. */
export const MIN_HEARTBEAT_MS = 1000;
/** Looks (and the shared worker's beats) per span. */
const LOOKS_PER_SPAN = 5;

/** A beat, or its answer ({@link Beat}). */
export const BEAT: Beat = { type: 'qq-beat' };
export const isBeat = (message: unknown): boolean => (message as Beat | undefined)?.type === 'qq-beat';

export interface Watch {
  /** The peer spoke: it is alive now. */
  heard(): void;
  /** Stops looking (the link ended). */
  stop(): void;
}

/**
 * Every `span / 5` ms calls `look` (the shared worker beats there), and calls `gone` once when
 * the peer has not been heard for `span` ms. A look that comes late (this thread was blocked,
 * paused in a debugger, or its timers throttled) never declares the peer gone: the peer's
 * messages that waited behind it are read first, and the next look, on time, decides.
 */
export function watchPeer(span: number, gone: () => void, look: () => void = () => {}): Watch {
  const every = span / LOOKS_PER_SPAN;
  let heard = now();
  let last = heard;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    const at = now();
    const onTime = at - last < 2 * every;
    last = at;
    if (onTime && at - heard >= span) {
      timer = undefined;
      gone();
      return;
    }
    look();
    timer = setTimeout(tick, every);
  };
  timer = setTimeout(tick, every);
  return {
    heard() {
      heard = now();
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
