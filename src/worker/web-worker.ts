/**
 * Web Worker entry: a host for one facade, started by an init message that carries its ports.
 * Only adapts the worker's messages; the host lives in host.ts.
 */
import type { HostConfig } from '../shared/protocol.js';
import { browserSocketFactory } from './browser-socket.js';
import { type HostPort, refusal, runHost } from './run-host.js';

/** The message that starts the host (its ports in the transfer list). */
export interface WorkerInit {
  type: 'qq-host-init';
  config: HostConfig;
  data: MessagePort;
  control: MessagePort;
}

/** What the worker says back on its own channel. */
export type WorkerReply = { type: 'qq-host-ended' } | { type: 'qq-host-refused'; reason: string };

const scope = globalThis as unknown as {
  addEventListener(type: 'message', fn: (event: MessageEvent) => void): void;
  postMessage(message: WorkerReply): void;
};

scope.addEventListener('message', (event: MessageEvent) => {
  const init = event.data as WorkerInit;
  if (init?.type !== 'qq-host-init') return;
  const refused = refusal(init.config);
  if (refused !== undefined) {
    scope.postMessage({ type: 'qq-host-refused', reason: refused });
    return;
  }
  const crash = (how: string) => {
    setTimeout(() => {
      throw new Error(`qq-socket-worker: host crash requested (${how})`);
    });
  };
  void runHost(
    init.config,
    init.data as unknown as HostPort,
    init.control as unknown as HostPort,
    browserSocketFactory,
    crash,
  ).then(() => scope.postMessage({ type: 'qq-host-ended' }));
});
