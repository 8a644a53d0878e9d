/**
 * Ports as lanes of one message channel: each message travels as `[lane, message]`, and each
 * lane hears only its own. Two carriers use it:
 * - a dedicated worker's own channel (`Worker.postMessage` and the worker's `self`), for the
 *   `worker` backend's data and control: WebKit delivers a MessageChannel's messages behind
 *   a socket flood's traffic, seconds late or not until it ends, while the worker's own channel
 *   keeps pace (docs/browsers.md "Differences per engine");
 * - a BroadcastChannel between a tab and the leader's worker (broadcast-ports.ts).
 * Other messages on the carrier (a worker's init and replies) are left to its other listeners.
 */
import type { Port } from './protocol.js';

type Listener = (event: { data: unknown }) => void;

/** What lanes travel on: a BroadcastChannel (no transfer list), a Worker, or a worker's scope. */
export interface Carrier {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}

export interface Lanes {
  readonly ports: readonly Port[];
  /** The other side is listening: what was held goes now, and later posts go at once. */
  open(): void;
  /** Nothing more is sent or heard on any lane (the carrier itself stays as it is). */
  close(): void;
}

const isLaneMessage = (data: unknown): data is [number, unknown] =>
  Array.isArray(data) && data.length === 2 && typeof data[0] === 'number';

/** `count` lanes over `carrier`; `held` keeps posts until {@link Lanes.open}. */
export function lanes(carrier: Carrier, count: number, { held = false } = {}): Lanes {
  const listeners = Array.from({ length: count }, () => new Set<Listener>());
  let waiting: Array<[[number, unknown], Transferable[]]> | undefined = held ? [] : undefined;
  let closed = false;
  const onMessage = (event: MessageEvent) => {
    if (!isLaneMessage(event.data)) return;
    const [lane, data] = event.data;
    for (const listener of listeners[lane] ?? []) listener({ data });
  };
  carrier.addEventListener('message', onMessage);
  const post = (lane: number, message: unknown, transfer: Transferable[] = []) => {
    if (closed) return;
    if (waiting !== undefined) waiting.push([[lane, message], transfer]);
    else carrier.postMessage([lane, message], transfer);
  };
  const port = (lane: number): Port => ({
    postMessage: (message, transfer) => post(lane, message, transfer),
    addEventListener: (_type, listener) => listeners[lane]?.add(listener),
    removeEventListener: (_type, listener) => listeners[lane]?.delete(listener),
    start: () => {},
    // A lane closes with the others (the link's dispose, or the host's end).
    close: () => listeners[lane]?.clear(),
  });
  return {
    ports: Array.from({ length: count }, (_, lane) => port(lane)),
    open() {
      const queue = waiting ?? [];
      waiting = undefined;
      for (const [message, transfer] of queue) carrier.postMessage(message, transfer);
    },
    close() {
      closed = true;
      waiting = undefined;
      for (const set of listeners) set.clear();
      carrier.removeEventListener('message', onMessage);
    },
  };
}
