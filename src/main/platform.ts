/** What a runtime provides to createQQ: its backends and the means to start a host. */

import type { HostConfig, PageFrame } from '../shared/protocol.js';
import type { Sharing } from '../shared/types.js';
import type { HostLink, TurnScheduler } from './client.js';

/** The createQQ options a backend needs to start a host. */
export interface LinkOptions {
  backend: string;
  threads: number;
  /** Where the host's script is (see {@link Platform.workerUrl}); undefined: the package's own. */
  workerUrl: URL | undefined;
  /** Shared backend: what hosts the shared sockets (a SharedWorker, a leader tab's worker). */
  sharing: Sharing;
  /** Shared backend without Web Locks: ms of silence after which tab or host is taken for gone; 0: never. */
  heartbeat: number;
}

export interface Platform {
  /** The backends this runtime offers. */
  backends: readonly string[];
  /** What 'auto' picks here (browsers: inline where there is no Web Worker). */
  auto(): string;
  link(config: HostConfig, options: LinkOptions): HostLink;
  /** Runs a function after the current turn: where flow-control credit is returned from. */
  schedule: TurnScheduler;
  /**
   * Where `schedule` can be starved: a batch that comes this many ms after the end of a turn was
   * scheduled, and it has not run, ends that turn itself (browsers: WebKit runs a flood of port
   * messages ahead of MessageChannel posts and timers, for as long as the flood lasts). Undefined
   * where it cannot be (Node runs setImmediate after every poll phase).
   */
  lateTurnMs?: number;
  /** After destroy(): ends what idle hosts leave behind (Node: idle pool threads). */
  releaseIdle(): Promise<void>;
  /** Host threads alive in this process (diagnostics and leak tests). */
  threads(): number;
  /**
   * How `workerUrl` is read here: `what` it must be (for the TypeError), and `resolve`, which
   * turns a URL or string into the script's URL or throws. Browsers: relative to the page; Node: a
   * file: URL or a path, relative to the working directory.
   */
  workerUrl: { what: string; resolve(value: URL | string): URL };
  /** Browsers cannot set handshake headers: connectSocket ignores them, with one warning per instance. */
  headersIgnored: boolean;
  /** Whether a socket can send a ping frame (keepalive's probe): Node can, browsers cannot. */
  canPing: boolean;
  /**
   * Browsers: calls `post` with the page's life events (online, offline, and the back/forward
   * cache: `hidden` on pagehide with persisted, `shown` on pageshow with persisted); returns
   * the function that stops it.
   */
  watchPage?(post: (event: PageFrame['event']) => void): () => void;
  /** Browsers: `navigator.onLine`. */
  online?(): boolean;
  /**
   * createQQ options this runtime has no use for, each with why: given one, createQQ warns once
   * (`qq-socket-worker: <why>; <name> is ignored`). Browsers decide certificate trust themselves
   * (`tls`), run an instance's sockets in one worker (`threads`) and use their own proxy
   * settings (`proxy`, `noProxy`).
   */
  ignoredOptions: Partial<Record<'tls' | 'threads' | 'proxy' | 'noProxy', string>>;
}
