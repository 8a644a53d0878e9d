/**
 * The ports between a tab and the leader tab's worker (`sharing: 'leader'`, docs/sharing.md
 * "Without a SharedWorker"): a tab cannot hand a MessagePort to a worker another tab started, so
 * its link's three ports (the worker's own channel, data and control) travel as lanes of one
 * BroadcastChannel that only the two of them open, named after the link. Messages are copied,
 * never transferred (a BroadcastChannel has no transfer list): a batch's ArrayBuffers arrive as
 * copies, and the sender's stay usable.
 *
 * A BroadcastChannel drops what is posted before the other side has opened its own: the tab's
 * end holds what it posts until the leader says it is listening ({@link BroadcastPorts.open}).
 */
import type { Port } from './protocol.js';

type Listener = (event: { data: unknown }) => void;

/** The three lanes: the worker's own channel (init replies), data, control. */
const LANES = 3;

export interface BroadcastPorts {
  /** The worker's own channel: what a SharedWorker's port carries. */
  reply: Port;
  data: Port;
  control: Port;
  /** The other side is listening: what was held goes now, and later posts go at once. */
  open(): void;
  /** Closes the channel: nothing more is sent or heard. */
  close(): void;
}

/** The lanes of the channel `name`; `open` false holds posts until {@link BroadcastPorts.open}. */
export function broadcastPorts(name: string, open: boolean): BroadcastPorts {
  const channel = new BroadcastChannel(name);
  const listeners = Array.from({ length: LANES }, () => new Set<Listener>());
  let held: Array<[number, unknown]> | undefined = open ? undefined : [];
  let closed = false;
  channel.onmessage = (event: MessageEvent) => {
    const [lane, data] = event.data as [number, unknown];
    for (const listener of listeners[lane] ?? []) listener({ data });
  };
  const post = (lane: number, message: unknown) => {
    if (closed) return;
    if (held !== undefined) held.push([lane, message]);
    else channel.postMessage([lane, message]);
  };
  const port = (lane: number): Port => ({
    postMessage: (message) => post(lane, message),
    addEventListener: (_type, listener) => listeners[lane]?.add(listener),
    removeEventListener: (_type, listener) => listeners[lane]?.delete(listener),
    start: () => {},
    // A lane closes with the channel (the link's dispose, or the host's end: see close()).
    close: () => listeners[lane]?.clear(),
  });
  return {
    reply: port(0),
    data: port(1),
    control: port(2),
    open() {
      const queue = held ?? [];
      held = undefined;
      for (const message of queue) channel.postMessage(message);
    },
    close() {
      closed = true;
      for (const set of listeners) set.clear();
      channel.close();
    },
  };
}
