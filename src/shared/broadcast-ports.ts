/**
 * The ports between a tab and the leader tab's worker (`sharing: 'leader'`, docs/sharing.md
 * "Without a SharedWorker"): a tab cannot hand a MessagePort to a worker another tab started, so
 * its link's three ports (the worker's own channel, data and control) travel as lanes (lanes.ts)
 * of one BroadcastChannel that only the two of them open, named after the link. Messages are
 * copied, never transferred (a BroadcastChannel has no transfer list): a batch's ArrayBuffers
 * arrive as copies, and the sender's stay usable.
 *
 * A BroadcastChannel drops what is posted before the other side has opened its own: the tab's
 * end holds what it posts until the leader says it is listening ({@link BroadcastPorts.open}).
 */
import { lanes } from './lanes.js';
import type { Port } from './protocol.js';

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
  // A BroadcastChannel's postMessage takes no transfer list: the one lanes.ts passes is ignored.
  const { ports, open: release, close } = lanes(channel, 3, { held: !open });
  const [reply, data, control] = ports as [Port, Port, Port];
  return {
    reply,
    data,
    control,
    open: release,
    close() {
      close();
      channel.close();
    },
  };
}
