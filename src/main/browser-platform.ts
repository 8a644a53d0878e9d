/**
 * The browser platform: `worker` runs the host in a dedicated Web Worker (one per qq instance),
 * `shared` in a SharedWorker every tab of the origin reaches, `inline` on this thread. Only this
 * file creates workers in browsers, with the help of worker-scripts.ts (where the scripts are and
 * what a page needs to start them).
 */
import { hostDeath, NO_WORKERS } from '../shared/errors.js';
import { BEAT, isBeat, type Watch, watchPeer } from '../shared/heartbeat.js';
import { lanes } from '../shared/lanes.js';
import {
  type HostConfig,
  type LanesInit,
  type Port,
  PROTOCOL_VERSION,
  type TabMessage,
  type WorkerReply,
} from '../shared/protocol.js';
import { randomId } from '../shared/random-id.js';
import { setTimeout } from '../shared/timers.js';
import { webLocks } from '../shared/web-locks.js';
import { browserSocketFactory } from '../worker/browser-socket.js';
import { coalescing } from '../worker/run-host.js';
import type { HostLink } from './client.js';
import { leaderRoute, leaderUnavailable, type SharedRoute } from './leader.js';
import { inlineLink, linkPorts } from './link.js';
import type { LinkOptions, Platform } from './platform.js';
import {
  hasWorkers,
  isCrossOriginIsolated,
  isOpaqueOrigin,
  newWorker,
  onPageOrigin,
  scripts,
  startWorker,
} from './worker-scripts.js';

function workerLink(config: HostConfig, url: URL): HostLink {
  const worker = startWorker(url);
  // Data and control are lanes of the worker's own channel, not MessageChannels (lanes.ts).
  const { ports, close } = lanes(worker, 2);
  const [data, control] = ports as [Port, Port];
  const ended = new Promise<void>((resolve, reject) => {
    worker.addEventListener('message', (event: MessageEvent<WorkerReply>) => {
      if (event.data?.type === 'qq-host-ended') resolve();
      if (event.data?.type === 'qq-host-refused') reject(new Error(event.data.reason));
    });
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      // An error in the worker carries its message; a script that failed to load, none.
      reject(new Error(event.message || hostDeath.workerScript(url.href, isCrossOriginIsolated())));
    });
  });
  ended.catch(() => {}); // the client reports it
  const init: LanesInit = { type: 'qq-host-init', config };
  worker.postMessage(init);
  return linkPorts(data, control, ended, () => {
    close();
    worker.terminate();
  });
}

/** Why a SharedWorker cannot serve this page (so that it runs as `worker`, with one warning), or undefined. */
function sharedFallback(url: URL): string | undefined {
  if ((globalThis as { SharedWorker?: unknown }).SharedWorker === undefined) {
    return 'SharedWorker is not available; using backend worker';
  }
  if (isOpaqueOrigin()) {
    return "this page's origin is opaque (a sandboxed page), and such a page may not use a SharedWorker; using backend worker";
  }
  // A SharedWorker must come from the page's origin, and a blob: one would be this tab's alone.
  if (onPageOrigin(url)) return undefined;
  return `a SharedWorker must come from the page's origin, and ${url} does not; using backend worker (serve shared-worker.js from this origin and pass workerUrl to share)`;
}
/** Warnings given so far: each is given once per page. */
const warned = new Set<string>();
const warnOnce = (text: string): void => {
  if (!warned.has(text)) console.warn(`qq-socket-worker: ${text}`);
  warned.add(text);
};

/**
 * WebKit (Safari, WebKitGTK), by its vendor string (Chromium's and Firefox's differ). Its
 * SharedWorker's ports carry a socket flood's batches seconds late, or not until the flood ends,
 * so that a page keeping up is let go as fallen behind (docs/browsers.md "Differences per
 * engine"); and it re-runs a shared worker's script under live ports (WebKit 318873).
 */
const isWebKit = (): boolean =>
  (globalThis as { navigator?: { vendor?: string } }).navigator?.vendor === 'Apple Computer, Inc.';

/** Each host `shared` can use: why it cannot serve this page (undefined: it can), and its route. */
const SHARED_HOSTS: Record<'shared-worker' | 'leader', [(url: URL) => string | undefined, (url: URL) => SharedRoute]> =
  {
    'shared-worker': [sharedFallback, sharedWorkerRoute],
    leader: [leaderUnavailable, leaderRoute],
  };

/**
 * The `shared` backend: a host in the origin's SharedWorker (`sharing: 'shared-worker'`), or in
 * the leader tab's worker (`'leader'`); `'auto'` takes the SharedWorker where it can serve this
 * page, except in WebKit, where it takes a leader first. Where neither can, a host of the tab's
 * own (`worker`), with one warning saying why.
 */
function sharedLink(config: HostConfig, urls: { worker: URL; shared: URL }, options: LinkOptions): HostLink {
  const { sharing, heartbeat } = options;
  const hosts: ReadonlyArray<'shared-worker' | 'leader'> =
    sharing !== 'auto' ? [sharing] : isWebKit() ? ['leader', 'shared-worker'] : ['shared-worker', 'leader'];
  /** Why each host tried cannot serve this page. */
  const why: { 'shared-worker'?: string; leader?: string } = {};
  for (const host of hosts) {
    const [unavailable, route] = SHARED_HOSTS[host];
    const reason = unavailable(urls.shared);
    if (reason === undefined) return tabLink(route(urls.shared), config, heartbeat);
    why[host] = reason;
  }
  // Neither: why not the SharedWorker, where it was asked for (or a leader would not do either);
  // where only a leader was, why not that.
  warnOnce(why['shared-worker'] ?? `${why.leader}, which sharing 'leader' needs; using backend worker`);
  return workerLink(config, urls.worker);
}

/** The route to the origin's SharedWorker: its port, and the data and control ports sent over it. */
function sharedWorkerRoute(url: URL): SharedRoute {
  // The protocol version in the name: a tab of a newer build gets a shared worker of its own
  // while tabs of the older one still hold theirs (same URL, other code), instead of joining it
  // and being refused.
  const worker = newWorker(SharedWorker, url.href, { type: 'module', name: `qq-socket-worker/${PROTOCOL_VERSION}` });
  const port = worker.port;
  const data = new MessageChannel();
  const control = new MessageChannel();
  return {
    reply: port,
    data: data.port1,
    control: control.port1,
    start: (init) =>
      port.postMessage({ ...init, data: data.port2, control: control.port2 }, [data.port2, control.port2]),
    // Errors inside a shared worker stay there: this fires only when its script failed to load.
    watch: (fail) => worker.addEventListener('error', () => fail(new Error(hostDeath.sharedScript(url.href)))),
    died: hostDeath.sharedWorkerDied(),
    close: () => port.close(),
  };
}

/**
 * A tab's host in a host that serves every tab (`route`). The tab holds a Web Lock for its life
 * and lets go on pagehide: the shared host, waiting for the same lock, then shuts this tab's host
 * down, closing its sockets and releasing its shares, even if the tab died without a word. Where
 * there are no Web Locks (an insecure context; a SharedWorker only) the tab says goodbye on
 * pagehide, and the host's beats stand in for the locks both ways (`heartbeat` ms of silence:
 * heartbeat.ts).
 */
function tabLink(route: SharedRoute, config: HostConfig, heartbeat: number): HostLink {
  const port = route.reply;
  const lock = `qq-socket-worker:tab:${randomId()}`;
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const locks = webLocks();
  let finished = false;
  const stopWaiting = new AbortController();
  let watch: Watch | undefined;
  /** The name the shared host gave on this port first: its run's life lock. */
  let run: string | undefined;
  const ended = new Promise<void>((resolve, reject) => {
    port.addEventListener('message', (event) => {
      const reply = event.data as WorkerReply | undefined;
      if (reply?.type === 'qq-host-ended') resolve();
      if (reply?.type === 'qq-host-refused') reject(new Error(reply.reason));
      if (reply?.type === 'qq-host-alive' && run === undefined) {
        run = reply.lock;
        // Wait on the host's life lock: granted only once the shared host is gone.
        locks
          ?.request(reply.lock, { signal: stopWaiting.signal }, async () => {
            if (!finished) reject(new Error(route.died));
          })
          .catch(() => {}); // aborted: the host ended cleanly
      } else if (reply?.type === 'qq-host-alive' && reply.lock !== run) {
        // Another run of the shared worker's script under this live port: WebKit starts one where
        // the worker's process died (WebKit bug 318873), without this tab's host, which died with it.
        reject(new Error(route.died));
      }
      // No locks (the host beats only then): answer each beat at once, and take a host that
      // stops beating for dead.
      if (isBeat(reply) && !finished) {
        port.postMessage(BEAT satisfies TabMessage, []);
        watch ??= watchPeer(heartbeat, () => reject(new Error(hostDeath.sharedWorkerSilent(heartbeat))));
        watch.heard();
      }
    });
    route.watch(reject);
  });
  const finish = () => {
    finished = true;
    stopWaiting.abort();
    watch?.stop();
  };
  void ended.then(finish, finish);
  ended.catch(() => {}); // the client reports it
  port.start();
  const init: LanesInit = { type: 'qq-host-init', config, lock };
  if (locks === undefined) {
    if (heartbeat > 0) init.heartbeat = heartbeat;
    route.start(init);
  } else {
    // Hold the lock before the host may ask for it: it must never see a live tab as gone.
    void locks.request(lock, () => {
      route.start(init);
      return held;
    });
  }
  // Leaving: the lock goes (the host, waiting for it, shuts this tab's host down); without Web
  // Locks (an insecure context) the tab tells the host itself.
  const leave = () => {
    release();
    if (locks === undefined) port.postMessage({ type: 'qq-tab-gone' } satisfies TabMessage, []);
  };
  addEventListener('pagehide', leave);
  const link = linkPorts(route.data, route.control, ended, () => {
    release();
    removeEventListener('pagehide', leave);
    route.close();
  });
  link.shared = true;
  return link;
}

/**
 * Runs `fn` after this turn: a MessageChannel post (setTimeout(0) would be clamped to 1–4 ms),
 * or a timer where the runtime has no MessageChannel (a DOM emulation: see channel.ts).
 */
function afterTurn(): (fn: () => void) => void {
  const queue: Array<() => void> = [];
  const run = () => {
    for (const fn of queue.splice(0)) fn();
  };
  let post: () => void = () => setTimeout(run, 0);
  if (typeof MessageChannel === 'function') {
    const channel = new MessageChannel();
    channel.port1.onmessage = run;
    post = () => channel.port2.postMessage(null);
  }
  return (fn) => {
    if (queue.push(fn) === 1) post();
  };
}

let schedule: ((fn: () => void) => void) | undefined;
let workers = 0;

/** Browsers: `worker` (the default), `shared` or `inline`. */
export const browserPlatform: Platform = {
  backends: ['worker', 'shared', 'inline'],
  auto() {
    if (hasWorkers()) return 'worker';
    warnOnce(`${NO_WORKERS}; backend auto runs inline, on this thread`);
    return 'inline';
  },
  link(config, options) {
    if (options.backend === 'inline') return inlineLink(config, browserSocketFactory, { schedule: coalescing() });
    const urls = scripts(options.workerUrl);
    const link = options.backend === 'shared' ? sharedLink(config, urls, options) : workerLink(config, urls.worker);
    workers++; // after: a worker whose constructor threw is not one
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
  // Past a frame's length: where the end of a turn merely waits behind a busy page, the batches
  // wait behind it too.
  lateTurnMs: 8,
  releaseIdle: async () => {},
  threads: () => workers,
  workerUrl: {
    what: 'a URL, or a string that is one (relative to the page)',
    resolve: (value) => new URL(value, (globalThis as { location?: { href: string } }).location?.href),
  },
  headersIgnored: true,
  canPing: false,
  watchPage(post) {
    const online = () => post('online');
    const offline = () => post('offline');
    const hidden = (event: PageTransitionEvent) => {
      if (event.persisted) post('hidden');
    };
    const shown = (event: PageTransitionEvent) => {
      if (event.persisted) post('shown');
    };
    const scope = globalThis as unknown as Pick<Window, 'addEventListener' | 'removeEventListener'>;
    if (typeof scope.addEventListener !== 'function') return () => {};
    scope.addEventListener('online', online);
    scope.addEventListener('offline', offline);
    scope.addEventListener('pagehide', hidden);
    scope.addEventListener('pageshow', shown);
    return () => {
      scope.removeEventListener('online', online);
      scope.removeEventListener('offline', offline);
      scope.removeEventListener('pagehide', hidden);
      scope.removeEventListener('pageshow', shown);
    };
  },
  online: () => (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine !== false,
  ignoredOptions: {
    tls: 'browsers decide certificate trust themselves',
    threads: "browsers run an instance's sockets in one worker",
    proxy: 'browsers use their own proxy settings',
    noProxy: 'browsers use their own proxy settings',
  },
};
