/**
 * The browser platform: `worker` runs the host in a dedicated Web Worker (one per qq instance),
 * `inline` on this thread. Only this file creates workers in browsers.
 */
import type { HostConfig } from '../shared/protocol.js';
import { browserSocketFactory } from '../worker/browser-socket.js';
import type { WorkerInit, WorkerReply } from '../worker/web-worker.js';
import type { HostLink } from './client.js';
import { inlineLink, linkPorts } from './link.js';
import type { Platform } from './platform.js';

/** The worker script beside this module (the built dist/browser/worker.js). */
const defaultWorkerUrl = (): URL => new URL('./worker.js', import.meta.url);

function workerLink(config: HostConfig, workerUrl: string | URL | undefined): HostLink {
  const worker = new Worker(workerUrl ?? defaultWorkerUrl(), { type: 'module', name: 'qq-socket-worker' });
  const data = new MessageChannel();
  const control = new MessageChannel();
  const ended = new Promise<void>((resolve, reject) => {
    worker.addEventListener('message', (event: MessageEvent<WorkerReply>) => {
      if (event.data?.type === 'qq-host-ended') resolve();
      if (event.data?.type === 'qq-host-refused') reject(new Error(event.data.reason));
    });
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      reject(new Error(event.message || 'the worker failed'));
    });
  });
  ended.catch(() => {}); // the client reports it
  const init: WorkerInit = { type: 'qq-host-init', config, data: data.port2, control: control.port2 };
  worker.postMessage(init, [data.port2, control.port2]);
  return linkPorts(data.port1, control.port1, ended, () => worker.terminate());
}

/** Runs `fn` after this turn: a MessageChannel post (setTimeout(0) would be clamped to 1–4 ms). */
function afterTurn(): (fn: () => void) => void {
  const channel = new MessageChannel();
  const queue: Array<() => void> = [];
  channel.port1.onmessage = () => {
    for (const fn of queue.splice(0)) fn();
  };
  return (fn) => {
    if (queue.push(fn) === 1) channel.port2.postMessage(null);
  };
}

let schedule: ((fn: () => void) => void) | undefined;
let workers = 0;

/** Browsers: `worker` (the default) or `inline`. */
export const browserPlatform: Platform = {
  backends: ['worker', 'inline'],
  link(config, options) {
    if (options.backend === 'inline') return inlineLink(config, browserSocketFactory);
    workers++;
    const link = workerLink(config, options.workerUrl);
    const dispose = link.dispose;
    link.dispose = () => {
      workers--;
      return dispose();
    };
    return link;
  },
  schedule: (fn) => {
    schedule ??= afterTurn();
    schedule(fn);
  },
  releaseIdle: async () => {},
  threads: () => workers,
  headersIgnored: true,
};
