/**
 * Web Worker entry: a host for one facade, started by an init message that carries its ports.
 * Only adapts the worker's messages; the host lives in host.ts.
 */
import type { WorkerInit, WorkerReply } from '../shared/protocol.js';
import { browserSocketFactory } from './browser-socket.js';
import { coalescing, refusal, runHost } from './run-host.js';

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
  void runHost(init, { factory: browserSocketFactory, crash, scheduling: { schedule: coalescing() } }).then(() =>
    scope.postMessage({ type: 'qq-host-ended' }),
  );
});
