/**
 * The runtime-neutral parts of reaching a host: wrapping a pair of ports into a {@link HostLink},
 * and running the host inline on this thread (over the runtime's MessageChannel, or a pair of
 * in-thread ports where it has none: channel.ts).
 */
import * as Comlink from 'comlink';
import type { HostConfig, HostControl, Port } from '../shared/protocol.js';
import { runHost, type Scheduling } from '../worker/run-host.js';
import type { SocketFactory } from '../worker/socket.js';
import { newChannel } from './channel.js';
import type { HostLink } from './client.js';

/**
 * Node releases a port a tick after close(), with a 'close' event (from either end): waiting for
 * it leaves no port behind after destroy(). Web ports have no such event and need no wait.
 */
function released(ports: Port[]): Promise<unknown> {
  const node = ports as unknown as Array<{ once?(event: 'close', fn: () => void): void }>;
  if (typeof node[0]?.once !== 'function') return Promise.resolve();
  return Promise.all(node.map((port) => new Promise<void>((resolve) => port.once?.('close', resolve))));
}

/**
 * A link over the facade's ends of the data and control ports. `onDispose` ends the host's
 * container (a worker), `hostPorts` are the host's ends when it runs on this thread.
 */
export function linkPorts(
  data: Port,
  control: Port,
  ended: Promise<unknown>,
  onDispose: () => void,
  hostPorts: Port[] = [],
): HostLink {
  const proxy = Comlink.wrap<HostControl>(control as unknown as Comlink.Endpoint);
  const closed = released([data, control, ...hostPorts]);
  data.start();
  return {
    data,
    control: proxy,
    ended,
    async dispose() {
      proxy[Comlink.releaseProxy]();
      data.close();
      control.close();
      onDispose();
      await closed;
    },
  };
}

/** Starts a host on this thread, over the same ports as a worker would use. */
export function inlineLink(config: HostConfig, factory: SocketFactory, scheduling?: Scheduling): HostLink {
  const data = newChannel();
  const control = newChannel();
  const crash = () => {
    throw new Error('crash() needs a worker backend');
  };
  const ended = runHost({ config, data: data.port2, control: control.port2 }, { factory, crash, scheduling });
  return linkPorts(data.port1, control.port1, ended, () => {}, [data.port2, control.port2]);
}

/**
 * The link to a host that could not be started (a worker constructor threw): the host is dead
 * from the start, so each task gets onError (`socket host died: <why>`) and onClose(1006), and
 * the next connectSocket tries again.
 */
export function failedLink(why: string): HostLink {
  const data = newChannel();
  const control = newChannel();
  const ended = Promise.reject(new Error(why));
  ended.catch(() => {}); // the client reports it
  // No host ever took the other ends (Node would not report them closed): close them with ours.
  return linkPorts(data.port1, control.port1, ended, () => {
    data.port2.close();
    control.port2.close();
  });
}
