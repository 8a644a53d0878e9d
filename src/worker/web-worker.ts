/**
 * Web Worker entry: a host for one facade, started by an init message. Data and control travel
 * as lanes of the worker's own channel (lanes.ts says why not MessageChannels). Only adapts the
 * worker's messages; the host lives in host.ts.
 */
import { type Carrier, lanes } from '../shared/lanes.js';
import type { LanesInit, Port, WorkerReply } from '../shared/protocol.js';
import { browserSocketFactory } from './browser-socket.js';
import { coalescing, refusal, runHost } from './run-host.js';

const scope = globalThis as unknown as Carrier & { postMessage(message: WorkerReply): void };

scope.addEventListener('message', (event: MessageEvent) => {
  const init = event.data as LanesInit;
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
  const { ports, close } = lanes(scope, 2);
  const [data, control] = ports as [Port, Port];
  void runHost(
    { ...init, data, control },
    { factory: browserSocketFactory, crash, scheduling: { schedule: coalescing() } },
  ).then(() => {
    close();
    scope.postMessage({ type: 'qq-host-ended' });
  });
});
