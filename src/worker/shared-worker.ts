/**
 * SharedWorker entry: one host per tab (its own connection limit), all of them drawing on one
 * {@link SharePool}. A tab holds a Web Lock for its life; when the lock comes free (the tab
 * closed, crashed or navigated, or said goodbye on pagehide), its host shuts down: its sockets
 * close and its shares are released. Where there are no Web Locks (an insecure context), a tab
 * says goodbye on pagehide, and one that goes silent under the host's beats is taken for gone
 * (heartbeat.ts).
 */

import { tabSilent } from '../shared/errors.js';
import { BEAT, watchPeer } from '../shared/heartbeat.js';
import type { TabMessage, WorkerInit, WorkerReply } from '../shared/protocol.js';
import { randomId } from '../shared/random-id.js';
import { webLocks } from '../shared/web-locks.js';
import { browserSocketFactory } from './browser-socket.js';
import type { Host } from './host.js';
import { coalescing, refusal, runHost } from './run-host.js';
import { SharePool } from './share-pool.js';

const pool = new SharePool(browserSocketFactory);

const locks = webLocks();

/**
 * This worker's life lock, held until it dies: tabs wait on it, and a grant tells them their
 * host is gone (a SharedWorker that dies fires nothing at the tabs it served).
 */
const LIFE_LOCK = `qq-socket-worker:host:${randomId()}`;
const alive = new Promise<void>((resolve) => {
  if (locks === undefined) resolve();
  else
    void locks.request(LIFE_LOCK, () => {
      resolve();
      return new Promise<void>(() => {}); // held for the worker's life
    });
});

function serve(port: MessagePort, init: WorkerInit): void {
  const reply = (message: WorkerReply) => port.postMessage(message);
  const refused = refusal(init.config);
  if (refused !== undefined) {
    reply({ type: 'qq-host-refused', reason: refused });
    return;
  }
  let host: Host | undefined;
  const crash = () => {
    throw new Error('crash() is not available in a shared host: it serves other tabs too');
  };
  const onHost = (h: Host) => {
    host = h;
  };
  // Without Web Locks (an insecure context) a leaving tab says so itself, on pagehide, and one
  // that dies without a word goes silent: it answers this host's beats no more.
  const { heartbeat } = init;
  const watch =
    heartbeat === undefined
      ? undefined
      : watchPeer(
          heartbeat,
          () => host?.shutdown(tabSilent(heartbeat)),
          () => reply(BEAT),
        );
  port.addEventListener('message', (message: MessageEvent<TabMessage>) => {
    watch?.heard();
    if (message.data?.type === 'qq-tab-gone') host?.shutdown();
  });
  void runHost(init, { factory: pool.factory, crash, onHost, scheduling: { schedule: coalescing() } }).then(() => {
    watch?.stop();
    reply({ type: 'qq-host-ended' });
  });
  // Granted once the tab lets go of its lock: it is gone (or leaving).
  if (init.lock !== undefined) void locks?.request(init.lock, () => host?.shutdown());
  if (watch !== undefined) reply(BEAT); // the tab watches from the first one
}

(globalThis as unknown as { addEventListener(t: 'connect', f: (e: MessageEvent) => void): void }).addEventListener(
  'connect',
  (event: MessageEvent) => {
    const port = event.ports[0] as MessagePort;
    // Each run of this script names itself to every port it gets (its life lock's name, drawn at
    // start): a tab that hears a second name on its port knows its host died (WebKit bug 318873).
    void alive.then(() => port.postMessage({ type: 'qq-host-alive', lock: LIFE_LOCK } satisfies WorkerReply));
    port.addEventListener('message', (message: MessageEvent) => {
      const init = message.data as WorkerInit;
      if (init?.type === 'qq-host-init') serve(port, init);
    });
    port.start();
  },
);
