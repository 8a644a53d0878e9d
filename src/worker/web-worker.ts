/**
 * Web Worker entry: a host for one facade, started by an init message that carries its ports.
 * Only adapts the worker's messages; the host lives in host.ts.
 */
import type { Beat } from '../shared/heartbeat.js';
import type { HostConfig } from '../shared/protocol.js';
import { browserSocketFactory } from './browser-socket.js';
import { coalescing, refusal, runHost } from './run-host.js';

/** The message that starts the host (its ports in the transfer list). */
export interface WorkerInit {
  type: 'qq-host-init';
  config: HostConfig;
  data: MessagePort;
  control: MessagePort;
  /** Shared host: the Web Lock the tab holds for its life; granted to the host when the tab is gone. */
  lock?: string;
  /**
   * Shared host, a tab without Web Locks: the span (ms) of silence after which the tab is taken
   * for gone; the host beats its port meanwhile (heartbeat.ts).
   */
  heartbeat?: number;
}

/**
 * Shared host: a tab leaving (pagehide) where there are no Web Locks to tell it, on the port it
 * sent its init on.
 */
export interface TabGone {
  type: 'qq-tab-gone';
}

/** What the worker says back on its own channel. */
export type WorkerReply =
  | { type: 'qq-host-ended' }
  | { type: 'qq-host-refused'; reason: string }
  /** Shared host: the Web Lock it holds for its life; a tab waiting on it learns when it died. */
  | { type: 'qq-host-alive'; lock: string }
  /** Shared host, a tab without Web Locks: answered at once (heartbeat.ts). */
  | Beat;

/** What a tab says on that channel besides its init (shared host). */
export type TabMessage = TabGone | Beat;

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
