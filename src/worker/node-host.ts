/** Runs a {@link Host} on Node MessagePorts, in a worker thread or (inline) on the main thread. */
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import type { HostConfig, HostControl } from '../shared/protocol.js';
import { Host } from './host.js';
import { nodeClock, nodeSocketFactory } from './node-socket.js';

/** Serves one facade until it asks the host to shut down; resolves once the host has ended. */
export function runNodeHost(
  config: HostConfig,
  data: MessagePort,
  control: MessagePort,
  crash: HostControl['crash'],
): Promise<void> {
  return new Promise((resolve) => {
    const host = new Host(
      config,
      {
        factory: nodeSocketFactory,
        post: (batch, transfer) => data.postMessage(batch, transfer),
        schedule: queueMicrotask,
        clock: nodeClock,
        setTimer: (fn, ms) => setTimeout(fn, ms),
        clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
      },
      () => {
        data.close();
        control.close();
        resolve();
      },
    );
    data.on('message', host.receive);
    const api: HostControl = { stats: () => host.stats(), crash };
    Comlink.expose(api, control as unknown as Comlink.Endpoint);
  });
}
