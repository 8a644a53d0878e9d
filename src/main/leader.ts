/**
 * Sharing without a SharedWorker (`sharing: 'leader'`, docs/sharing.md "Without a SharedWorker"):
 * the tabs of an origin elect one of them with a Web Lock; the leader runs the shared host
 * (shared-worker.js, as a dedicated worker: one host per tab drawing on one pool of shares), and
 * every tab, the leader's own included, reaches it through BroadcastChannels
 * (broadcast-ports.ts). When the leader tab goes, its worker and the sockets it held go with it;
 * the next tab in the lock's queue leads at once, and a tab's next host (a reconnect, a
 * connectSocket) is the new leader's.
 */
import { broadcastPorts } from '../shared/broadcast-ports.js';
import { hostDeath } from '../shared/errors.js';
import {
  type LanesInit,
  type LeadInit,
  type LobbyMessage,
  type Port,
  PROTOCOL_VERSION,
  type WorkerReply,
} from '../shared/protocol.js';
import { randomId } from '../shared/random-id.js';
import { clearTimeout, setTimeout } from '../shared/timers.js';
import { webLocks } from '../shared/web-locks.js';
import { hasWorkers, isCrossOriginIsolated, isOpaqueOrigin, startWorker } from './worker-scripts.js';

/** How a tab reaches a host that serves every tab: a SharedWorker's port, or the leader's channels. */
export interface SharedRoute {
  /** The worker's own channel: init replies, beats. */
  reply: Pick<Port, 'postMessage' | 'addEventListener' | 'start'>;
  data: Port;
  control: Port;
  /** Asks for the tab's host (the tab holds its life lock by then). */
  start(init: LanesInit): void;
  /** Hooks the route's own failures to the link's end. */
  watch(fail: (error: Error) => void): void;
  /** Why the tab's tasks end when the host's life lock comes free. */
  died: string;
  close(): void;
}

/** A tab asks again this often until the leader's worker answers (there may be none yet). */
const JOIN_RETRY_MS = 500;
/** A tab that no leader answered in this long fails its link (its tasks' onError). */
export const JOIN_TIMEOUT_MS = 30_000;

/** Why `leader` cannot run here, or undefined. */
export function leaderUnavailable(): string | undefined {
  if (!hasWorkers()) return 'this runtime has no Web Worker';
  if (isOpaqueOrigin()) return "this page's origin is opaque (a sandboxed page), and has no Web Locks";
  if (webLocks() === undefined)
    return 'this page has no Web Locks (an insecure context: plain http:// other than localhost)';
  if (typeof BroadcastChannel !== 'function') return 'this page has no BroadcastChannel';
  return undefined;
}

/** This page's candidacies: their lobbies, one per shared-worker.js URL (another URL is another build's). */
const candidacies = new Set<string>();

/**
 * Makes this page a candidate for leader of the tabs that start `url`: it waits in the lock's
 * queue and, once first, starts the shared host in a dedicated worker. It steps down on pagehide
 * (a cached page's worker is frozen with it) and stands again on pageshow.
 */
function candidacy(url: URL): string {
  const lobby = `qq-socket-worker/${PROTOCOL_VERSION}/${url.href}`;
  if (candidacies.has(lobby)) return lobby;
  candidacies.add(lobby);
  const locks = webLocks();
  if (locks === undefined) return lobby;
  /** Ends this candidacy: the queue's place, or the lead (its worker). */
  let stepDown: (() => void) | undefined;
  const stand = () => {
    const quit = new AbortController();
    let lead: (() => void) | undefined;
    stepDown = () => {
      quit.abort();
      lead?.();
    };
    locks
      .request(`${lobby}/leader`, { signal: quit.signal }, () => {
        if (quit.signal.aborted) return;
        return new Promise<void>((resolve) => {
          lead = leadUntil(url, lobby, () => {
            lead = undefined;
            resolve();
            // The worker died under a page that stays: it stands again, at the back of the queue.
            if (!quit.signal.aborted) stand();
          });
        });
      })
      .catch(() => {}); // aborted: the page left before its turn
  };
  stand();
  const scope = globalThis as unknown as Pick<Window, 'addEventListener'>;
  scope.addEventListener?.('pagehide', () => {
    stepDown?.();
    stepDown = undefined;
  });
  scope.addEventListener?.('pageshow', (event: PageTransitionEvent) => {
    if (event.persisted && stepDown === undefined) stand();
  });
  return lobby;
}

/**
 * Leads: starts the shared host's worker for the lobby. Returns how to step down; `done` is
 * called once the lead ends (stepped down, or the worker died: then the page stands again, at
 * the back of the queue).
 */
function leadUntil(url: URL, lobby: string, done: () => void): () => void {
  let over = false;
  let worker: Worker | undefined;
  let failed: string | undefined;
  /** The worker's life lock, once it said. */
  let life: { lock: string; stop: AbortController } | undefined;
  const channel = new BroadcastChannel(lobby);
  const end = () => {
    if (over) return;
    over = true;
    worker?.terminate();
    // Chromium freezes a cached page's worker rather than ending it (its life lock stays held):
    // the tabs it served hear it from here.
    if (life !== undefined) {
      life.stop.abort();
      channel.postMessage({ type: 'qq-leader-gone', lock: life.lock } satisfies LobbyMessage);
    }
    channel.close();
    done();
  };
  // A worker that cannot start fails every join, as a shared worker's script that fails to load
  // fails every tab's host.
  channel.onmessage = (event: MessageEvent<LobbyMessage>) => {
    const message = event.data;
    if (failed === undefined || message?.type !== 'qq-join') return;
    channel.postMessage({ type: 'qq-leader-failed', link: message.link, reason: failed } satisfies LobbyMessage);
  };
  try {
    worker = startWorker(url);
  } catch (error) {
    failed = String((error as Error)?.message ?? error);
    return end;
  }
  worker.addEventListener('error', (event) => {
    event.preventDefault();
    failed = event.message || hostDeath.workerScript(url.href, isCrossOriginIsolated());
  });
  // The worker's life lock: granted when it died under this page (the browser ended it), so the
  // page stops leading and stands again; the next leader starts a fresh one.
  worker.addEventListener('message', (event: MessageEvent<WorkerReply>) => {
    if (event.data?.type !== 'qq-host-alive' || life !== undefined) return;
    life = { lock: event.data.lock, stop: new AbortController() };
    void webLocks()
      ?.request(life.lock, { signal: life.stop.signal }, () => end())
      .catch(() => {});
  });
  worker.postMessage({ type: 'qq-lead', lobby } satisfies LeadInit);
  return end;
}

/** The route to the leader's host: a join on the lobby, then the link's own channel. */
export function leaderRoute(url: URL): SharedRoute {
  const lobby = candidacy(url);
  const link = randomId();
  const ports = broadcastPorts(`${lobby}/${link}`, false);
  const hall = new BroadcastChannel(lobby);
  let join: LobbyMessage | undefined;
  let joined = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let timeout: ReturnType<typeof setTimeout> | undefined;
  const ask = () => {
    clearTimeout(retry);
    if (joined || join === undefined) return;
    hall.postMessage(join);
    retry = setTimeout(ask, JOIN_RETRY_MS);
  };
  /** The life lock of the leader's worker that serves this link, once it said. */
  let host: string | undefined;
  const stop = () => {
    clearTimeout(retry);
    clearTimeout(timeout);
  };
  ports.reply.addEventListener('message', (event) => {
    const reply = event.data as WorkerReply | undefined;
    if (reply?.type === 'qq-host-alive') host = reply.lock;
    if (reply?.type !== 'qq-joined' || joined) return;
    joined = true;
    stop();
    ports.open();
  });
  // Chromium evicts a cached page that a BroadcastChannel posts to: the lobby's joins must not
  // reach this one while it is in the back/forward cache (its link ends there anyway: it let go
  // of its lock).
  const scope = globalThis as unknown as Pick<Window, 'addEventListener' | 'removeEventListener'>;
  const leave = () => hall.close();
  scope.addEventListener?.('pagehide', leave);
  return {
    reply: ports.reply,
    data: ports.data,
    control: ports.control,
    died: hostDeath.leaderGone(),
    start(init: LanesInit) {
      join = { type: 'qq-join', link, config: init.config, lock: init.lock as string };
      ask();
    },
    watch(fail) {
      hall.onmessage = (event: MessageEvent<LobbyMessage>) => {
        const message = event.data;
        if (message?.type === 'qq-leader-here') ask();
        if (message?.type === 'qq-leader-failed' && message.link === link) {
          stop();
          fail(new Error(message.reason));
        }
        if (message?.type === 'qq-leader-gone' && message.lock === host) fail(new Error(hostDeath.leaderGone()));
      };
      timeout = setTimeout(() => {
        if (joined) return;
        stop();
        fail(new Error(hostDeath.noLeader(JOIN_TIMEOUT_MS)));
      }, JOIN_TIMEOUT_MS);
    },
    close() {
      stop();
      scope.removeEventListener?.('pagehide', leave);
      hall.close();
      ports.close();
    },
  };
}
