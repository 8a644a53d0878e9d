/**
 * The shared host's entry: the origin's SharedWorker, or the leader tab's dedicated worker
 * (`sharing: 'leader'`: {@link lead}). One host per tab (its own connection limit), all of them
 * drawing on one {@link SharePool}. A tab holds a Web Lock for its life; when the lock comes free (the tab
 * closed, crashed or navigated, or said goodbye on pagehide), its host shuts down: its sockets
 * close and its shares are released. Where there are no Web Locks (an insecure context), a tab
 * says goodbye on pagehide, and one that goes silent under the host's beats is taken for gone
 * (heartbeat.ts).
 */

import { broadcastPorts } from '../shared/broadcast-ports.js';
import { tabSilent } from '../shared/errors.js';
import { BEAT, watchPeer } from '../shared/heartbeat.js';
import type { LeadInit, LobbyMessage, Port, TabMessage, WorkerInit, WorkerReply } from '../shared/protocol.js';
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

/** The tab's channel to this worker: a SharedWorker's port, or a leader's link (broadcast-ports.ts). */
type TabPort = Pick<Port, 'postMessage' | 'addEventListener'>;

/** Names this run of the script (its life lock) on `port`, once that lock is held. */
const announce = (port: Pick<Port, 'postMessage'>): void =>
  void alive.then(() => port.postMessage({ type: 'qq-host-alive', lock: LIFE_LOCK } satisfies WorkerReply, []));

function serve(port: TabPort, init: WorkerInit, onEnd: () => void = () => {}): void {
  const reply = (message: WorkerReply) => port.postMessage(message, []);
  const refused = refusal(init.config);
  if (refused !== undefined) {
    reply({ type: 'qq-host-refused', reason: refused });
    onEnd();
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
  port.addEventListener('message', (message) => {
    watch?.heard();
    if ((message.data as TabMessage | undefined)?.type === 'qq-tab-gone') host?.shutdown();
  });
  void runHost(init, { factory: pool.factory, crash, onHost, scheduling: { schedule: coalescing() } }).then(() => {
    watch?.stop();
    reply({ type: 'qq-host-ended' });
    onEnd();
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
    announce(port);
    port.addEventListener('message', (message: MessageEvent) => {
      const init = message.data as WorkerInit;
      if (init?.type === 'qq-host-init') serve(port, init);
    });
    port.start();
  },
);

/**
 * The leader tab's worker (`sharing: 'leader'`, main/leader.ts): serves each tab that joins on
 * the lobby channel over the link's own channel, as a SharedWorker serves each port that
 * connects. A tab asks again until it is answered: a join is taken once.
 */
function lead(lobby: string): void {
  const hall = new BroadcastChannel(lobby);
  const joined = new Set<string>();
  hall.onmessage = (event: MessageEvent<LobbyMessage>) => {
    const join = event.data;
    if (join?.type !== 'qq-join' || joined.has(join.link)) return;
    joined.add(join.link);
    const ports = broadcastPorts(`${lobby}/${join.link}`, true);
    ports.reply.postMessage({ type: 'qq-joined' } satisfies WorkerReply, []);
    // As to a SharedWorker's port: the tab waits on this worker's life lock (and learns from the
    // leader tab when it stepped down).
    announce(ports.reply);
    const { config, lock } = join;
    serve(ports.reply, { type: 'qq-host-init', config, lock, data: ports.data, control: ports.control }, () =>
      ports.close(),
    );
  };
  // Tabs that asked before this worker listened ask again on hearing it.
  hall.postMessage({ type: 'qq-leader-here' } satisfies LobbyMessage);
  if (locks !== undefined) announce({ postMessage: (message) => postMessage(message) });
}

// A dedicated worker (a leader tab's) hears its page; a SharedWorker hears no 'message'.
addEventListener('message', (event: MessageEvent) => {
  const init = event.data as LeadInit;
  if (init?.type === 'qq-lead') lead(init.lobby);
});
