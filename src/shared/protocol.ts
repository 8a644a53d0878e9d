/**
 * The wire protocol between a facade (main thread) and a host (worker). Types only.
 *
 * Two channels join them:
 * - control (Comlink): {@link HostControl}, rare out-of-band calls (stats, test hooks);
 * - data (a MessagePort): batches (batch.ts), one post per turn in each direction (more where a
 *   turn fills a batch). Every command and event of a task, and the shutdown handshake, travel
 *   on this port: messages on two different ports have no order between them, and a close must
 *   never overtake its sends.
 *
 * A host in a worker is started by {@link WorkerInit} (a thread task: {@link HostInit}), and
 * answers on the worker's own channel ({@link WorkerReply}); a tab keeps in touch with a shared
 * host there ({@link TabMessage}).
 */
import type { NoProxy } from './no-proxy.js';
import type { LogEntry, LogLevel, TlsConfig } from './types.js';

/** Bumped whenever a message changes shape; a host refuses a facade of another version. */
export const PROTOCOL_VERSION = 5;

/** Options the facade hands the host when it starts. */
export interface HostConfig {
  protocolVersion: number;
  maxPayload: number;
  tls: TlsConfig | undefined;
  /** Node: every connection goes through this HTTP proxy (CONNECT). Absent from older facades. */
  proxy?: ProxyConfig | undefined;
  /** The least level of the log entries the facade wants ({@link LogFrame}); 'warn': none. */
  log: LogLevel;
  /** createQQ's `pipeline`: the module's URL, imported by the host when a task names a stage. */
  pipeline?: string | undefined;
}

/** An HTTP proxy, from createQQ's `proxy` URL. */
export interface ProxyConfig {
  host: string;
  port: number;
  /** `user:password`, decoded from the URL, for Proxy-Authorization: Basic. */
  credentials?: string;
  /** createQQ's `noProxy`: where connections go directly (no-proxy.ts). */
  bypass?: NoProxy;
}

/** What `connectSocket` asks the host to open. */
export interface ConnectFrame {
  type: 'connect';
  id: number;
  url: string;
  headers: Record<string, string>;
  protocols: string[];
  tcpNoDelay: boolean;
  perMessageDeflate: boolean;
  timeout: number;
  /** Browsers, `shared` backend: one socket for every tab asking for the same url and protocols. */
  share: boolean;
  /** connectSocket's `reconnect`: the socket outlives its connections (worker/reconnect.ts). */
  reconnect?: ReconnectPolicy | undefined;
  /** connectSocket's `keepalive` (worker/keepalive.ts). */
  keepalive?: KeepalivePolicy | undefined;
  /**
   * `url` or `header` is a function, called on the facade's thread before each attempt: the host
   * asks for them ({@link DialEvent}) and waits for the answer ({@link DialFrame}). `url` and
   * `headers` above are then placeholders.
   */
  dynamic?: boolean;
  /**
   * The task's previous host died under it (with `reconnect`): the facade announced that loss
   * and waited its backoff; this is retry `attempt` of the outage (`opened`: an earlier
   * connection of the task had opened).
   */
  resume?: { attempt: number; opened: boolean } | undefined;
  /** connectSocket's `pipeline`: the stage the task's messages go through (worker/pipeline.ts). */
  pipeline?: string | undefined;
  /**
   * connectSocket's `deliver`: with `'frame'`, every value waits in the host until the page took
   * the previous batch (keyed or not), so the page gets at most one batch per animation frame.
   */
  deliver?: 'frame' | undefined;
}

/** connectSocket's `reconnect` with every default filled in. */
export interface ReconnectPolicy {
  retries: number;
  minDelay: number;
  maxDelay: number;
  factor: number;
  jitter: number;
  /** Bytes of sends that may wait for a connection. */
  queue: number;
}

/** connectSocket's `keepalive` with every default filled in. */
export interface KeepalivePolicy {
  interval: number;
  timeout: number;
  /** The probe where the runtime cannot send a ping frame (browsers); none: no probe. */
  message?: string | undefined;
}

/**
 * A send of part of a moved buffer (`transfer: true` on a view that does not cover its whole
 * buffer). Every other send travels as a batch item (see batch.ts).
 */
export interface SendRangeFrame {
  type: 'send-range';
  id: number;
  data: ArrayBuffer;
  offset: number;
  length: number;
}

/** `close` on an OPEN or CONNECTING task. */
export interface CloseFrame {
  type: 'close';
  id: number;
  code: number;
  reason: string;
}

/** Close every socket with 1001 and end; the host answers with {@link EndedEvent} last. */
export interface ShutdownFrame {
  type: 'shutdown';
  /** The close reason. @default DESTROY_REASON */
  reason?: string;
}

/** The answer to a {@link DialEvent}: where this attempt connects, or why it cannot. */
export interface DialFrame {
  type: 'dial';
  id: number;
  url?: string;
  headers?: Record<string, string>;
  /** The url or header function failed, or gave what is not a url or headers: a failed attempt. */
  errMsg?: string;
}

/**
 * The page's life, from the tab (browsers): offline and online (retries wait while offline), and
 * the back/forward cache (`hidden`: pagehide with persisted; `shown`: pageshow with persisted).
 */
export interface PageFrame {
  type: 'page';
  event: 'online' | 'offline' | 'hidden' | 'shown';
}

/** `task.send({ data })` of a value that is not a string or bytes: the task's stage encodes it. */
export interface SendValueFrame {
  type: 'send-value';
  id: number;
  value: unknown;
}

/**
 * The page dispatched `values` of task `id`'s values (`unkeyed` of them without a key: their
 * flow-control credit): the host may hand it the next keyed ones.
 */
export interface TookFrame {
  type: 'took';
  id: number;
  values: number;
  unkeyed: number;
}

/** Facade → host. */
export type Command =
  | ConnectFrame
  | SendRangeFrame
  | CloseFrame
  | ShutdownFrame
  | DialFrame
  | PageFrame
  | SendValueFrame
  | TookFrame;

/** The handshake finished. `time` values are absolute hi-res epoch ms (timeOrigin + now). */
export interface OpenEvent {
  type: 'open';
  id: number;
  header: Record<string, string>;
  protocol: string;
  profile: { connectStart: number; connectEnd: number; handshakeEnd: number };
  /** With `reconnect`, on every open but a first one at the first try: the retry that opened it. */
  attempt?: number;
  /** ...and whether an earlier connection of this task had opened. */
  reconnected?: boolean;
}

/** A connection of a task with `reconnect` was lost; retry `attempt` comes after `delay` ms. */
export interface ReconnectEvent {
  type: 'reconnect';
  id: number;
  attempt: number;
  delay: number;
  code: number;
  reason: string;
  errMsg: string;
}

/** The host is about to connect (retry `attempt`, 0 the first): it needs the url and headers. */
export interface DialEvent {
  type: 'dial';
  id: number;
  attempt: number;
}

/**
 * A stage's value for task `id` (its messages, with a pipeline). `key` and `skipped`: a keyed
 * value, and how many values of that key it replaced since the last one the page received.
 */
export interface ValueEvent {
  type: 'value';
  id: number;
  value: unknown;
  key?: string;
  skipped?: number;
}

/** A log entry about task `id` ({@link HostConfig.log}). */
export interface LogFrame extends Omit<LogEntry, 'socketTaskId'> {
  type: 'log';
  id: number;
}

export interface ErrorEvent {
  type: 'error';
  id: number;
  errMsg: string;
}

/** Last event of a task: the socket is gone and its slot is free. */
export interface CloseEvent {
  type: 'close';
  id: number;
  code: number;
  reason: string;
}

/** The next `count` sends of task `id` were handed to the socket (`errMsg` absent) or failed. */
export interface SentEvent {
  type: 'sent';
  id: number;
  count: number;
  errMsg?: string | undefined;
}

/**
 * What task `id`'s socket itself still holds of the data handed to it (a browser's WebSocket
 * buffers sends: its bufferedAmount), at the latest report. Part of the task's bufferedAmount.
 */
export interface BufferedEvent {
  type: 'buffered';
  id: number;
  bytes: number;
}

/** The host's last frame: every socket is closed and the host has ended. */
export interface EndedEvent {
  type: 'ended';
}

/**
 * The host's answer to `shown` ({@link PageFrame}), after every socket event it handled before:
 * a socket the browser closed while the page was in the back/forward cache reported before it.
 */
export interface RestoredEvent {
  type: 'restored';
}

/** Host → facade, besides messages (batch items). */
export type HostEvent =
  | OpenEvent
  | ErrorEvent
  | CloseEvent
  | SentEvent
  | BufferedEvent
  | EndedEvent
  | RestoredEvent
  | ReconnectEvent
  | DialEvent
  | ValueEvent
  | LogFrame;

/** What the host counts of one task (the facade adds what it counts itself: TaskStats). */
export interface HostTaskStats {
  id: number;
  messagesIn: number;
  bytesIn: number;
  pausedMs: number;
  holders: number;
}

export interface HostStats {
  sockets: number;
  /** Bytes and messages posted to the facade and not yet credited back. */
  inFlightBytes: number;
  inFlightItems: number;
  /** How often a socket stopped reading for lack of credit, and started again. */
  pauses: number;
  resumes: number;
  /** Sockets that could not stop reading, failed because the facade fell too far behind. */
  overruns: number;
  /** Batches posted to the facade so far (messages per batch = messages / batches). */
  batches: number;
  /** Batches received from the facade so far. */
  received: number;
  /** Messages of the open sockets that the Node adapter's fast path read (not ws's receiver). */
  framesTaken: number;
  /** Each live task's counters. */
  tasks: HostTaskStats[];
}

/** The Comlink-exposed control surface of a host. */
export interface HostControl {
  /** For tests and diagnostics: open sockets, and the flow-control window toward the facade. */
  stats(): HostStats;
  /** Test hook: makes the host die the given way. */
  crash(how: 'throw' | 'exit' | 'oom'): void;
}

/**
 * What the library uses of a MessagePort, Node's and the web's alike: the data and control ports
 * between a facade and its host. Where a runtime has no MessageChannel, an in-thread pair
 * stands in (`LocalPort`, main/channel.ts).
 */
export interface Port {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  removeEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  start(): void;
  close(): void;
}

/** What a facade hands its host, whatever carries it (a thread task, a worker's init message). */
export interface HostInit {
  config: HostConfig;
  data: Port;
  control: Port;
}

/*
 * Tab ↔ worker: what a page and the worker it started (a Web Worker, or the origin's
 * SharedWorker) say besides the data and control ports, on the worker's own channel (a
 * SharedWorker: the port the tab connected with).
 */

/** The message that starts a host in a worker (its ports in the transfer list). */
export interface WorkerInit extends HostInit {
  type: 'qq-host-init';
  /** Shared host: the Web Lock the tab holds for its life; granted to the host when the tab is gone. */
  lock?: string;
  /**
   * Shared host, a tab without Web Locks: the span (ms) of silence after which the tab is taken
   * for gone; the host beats its port meanwhile (heartbeat.ts).
   */
  heartbeat?: number;
}

/**
 * A {@link WorkerInit} whose data and control ports are lanes (lanes.ts) of the channel that
 * carries it: a dedicated worker's own (lanes 0 and 1), or a leader link's BroadcastChannel.
 */
export type LanesInit = Omit<WorkerInit, 'data' | 'control'>;

/** A beat, or its answer, on the port a tab started its shared host with (heartbeat.ts). */
export interface Beat {
  type: 'qq-beat';
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
  /**
   * Shared host: the Web Lock it holds for its life (where there are Web Locks), which a tab waits
   * on to learn when it died; sent on every port at connect, it also names this run of the script,
   * so a tab that hears another name knows its host died (WebKit 318873).
   */
  | { type: 'qq-host-alive'; lock: string }
  /** Shared host, a tab without Web Locks: answered at once (heartbeat.ts). */
  | Beat
  /** Leader: the leader's worker took the tab's join and listens on the link's channel. */
  | { type: 'qq-joined' };

/*
 * Sharing by a leader tab (`sharing: 'leader'`, docs/sharing.md "Without a SharedWorker"): the tab
 * holding the origin's leader lock runs the shared host in a dedicated worker, which every tab
 * reaches through BroadcastChannels (broadcast-ports.ts). A tab asks for a host on the lobby
 * channel; the leader's worker answers on the link's own channel.
 */

/** The leader tab to the worker it started: serve the tabs that join on `lobby`. */
export interface LeadInit {
  type: 'qq-lead';
  lobby: string;
}

/**
 * On the lobby: a tab asks for a host on the channel `<lobby>/<link>` (a {@link WorkerInit}
 * without its ports, which that channel carries), and the leader's worker says it listens.
 */
export type LobbyMessage =
  | { type: 'qq-join'; link: string; config: HostConfig; lock: string }
  | { type: 'qq-leader-here' }
  /** The leader tab, whose worker failed to start: every join fails so. */
  | { type: 'qq-leader-failed'; link: string; reason: string }
  /**
   * The leader tab, stepping down (pagehide) with its worker of life lock `lock`: that worker
   * may be frozen with a cached page rather than ended, so its tabs cannot wait for the lock.
   */
  | { type: 'qq-leader-gone'; lock: string };

/** What a tab says on that channel besides its init (shared host). */
export type TabMessage = TabGone | Beat;
