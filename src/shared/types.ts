/** Public API types: the QQ mini-program WebSocket API and our extensions. */
/** Every callback result carries `errMsg`: `"<api>:ok"` or `"<api>:fail <detail>"`. */
export interface GeneralCallbackResult {
  /** `"<api>:ok"` or `"<api>:fail <detail>"`; every string is listed in docs/semantics.md. */
  errMsg: string;
}

/** The success/fail/complete trio every API call accepts. */
export interface Callbacks<Success = GeneralCallbackResult> {
  /** Runs when the call succeeded; never before the call returned. */
  success?: (result: Success) => void;
  /** Runs when the call failed, with the errMsg `"<api>:fail <detail>"`. */
  fail?: (result: GeneralCallbackResult) => void;
  /** Runs after `success` or `fail`, exactly once per call. */
  complete?: (result: Success | GeneralCallbackResult) => void;
}

/** `connectSocket` success result: the task exists (not: the socket is open). */
export interface ConnectSocketSuccessResult extends GeneralCallbackResult {
  /** The new task's id, as {@link SocketTask.socketTaskId}. */
  socketTaskId: number;
}

/**
 * The options of {@link QQ.connectSocket}. A wrong one is never thrown: the call fails with an
 * errMsg and returns a task that is already CLOSED (docs/semantics.md "qq.connectSocket").
 */
export interface ConnectSocketOption extends Callbacks<ConnectSocketSuccessResult> {
  /**
   * `ws://` or `wss://` url, without a fragment. Extension, with `reconnect` (and without
   * `share`): a function called on this thread before each attempt, returning the url or a
   * Promise of it (a fresh token per attempt); one that throws or rejects is a failed attempt.
   */
  url: string | (() => string | Promise<string>);
  /**
   * Handshake headers (Node only). `Referer` is refused. Extension, with `reconnect`: a
   * function called before each attempt, as `url` may be. @default {}
   */
  header?: Record<string, unknown> | (() => Record<string, unknown> | Promise<Record<string, unknown>>);
  /** Sub-protocols. @default [] */
  protocols?: string[];
  /** TCP_NODELAY on the socket (Node only). @default false */
  tcpNoDelay?: boolean;
  /** Negotiate permessage-deflate (Node only). @default false */
  perMessageDeflate?: boolean;
  /** Handshake timeout in ms; 0, or more than 2^31 - 1, is none. @default the instance's `connectTimeout` */
  timeout?: number;
  /**
   * Extension, `shared` backend: tabs asking for the same url and protocols get one socket.
   * Ignored elsewhere. @default false
   */
  share?: boolean;
  /**
   * Extension: the task outlives its connections. A connection lost in any way the app did not
   * ask for is retried after a backoff (onReconnect, never onError/onClose); sends wait in
   * order meanwhile. `true` takes every default. docs/semantics.md "Staying connected".
   * @default false
   */
  reconnect?: boolean | ReconnectOptions;
  /**
   * Extension: after `interval` ms without a frame from the server the host probes (a ping on
   * Node, `message` in browsers), and drops a connection that stays silent `timeout` ms more.
   * `true` takes every default. @default false
   */
  keepalive?: boolean | KeepaliveOptions;
  /**
   * Extension: the stage of the instance's pipeline module (`createQQ({ pipeline })`) that takes
   * this task's messages in the host; the page receives what it emits (`onMessage`'s `data`,
   * with `key` and `skipped` for keyed values). `'json'` is built in: text is parsed in the host.
   * docs/semantics.md "Pipelines". @default undefined (every message to the page)
   */
  pipeline?: string;
  /**
   * Extension, browsers, with `pipeline`: `'frame'` hands the page at most one batch of values per
   * animation frame (asked for from requestAnimationFrame). @default as soon as possible
   */
  deliver?: 'frame';
}

/** {@link ConnectSocketOption.reconnect}. */
export interface ReconnectOptions {
  /** Retries per outage before giving up (onError, then onClose). @default Infinity */
  retries?: number;
  /** The first retry's wait (ms). @default 500 */
  minDelay?: number;
  /** The longest wait (ms). @default 20000 */
  maxDelay?: number;
  /** Each retry waits this many times the one before (up to maxDelay). @default 2 */
  factor?: number;
  /** Each wait is scaled by a random factor in [1 - jitter, 1]. @default 0.5 */
  jitter?: number;
  /** Bytes of sends that may wait for a connection; one more fails. @default 1048576 */
  queue?: number;
}

/** {@link ConnectSocketOption.keepalive}. */
export interface KeepaliveOptions {
  /** Probe after this many ms without a frame from the server. @default 25000 */
  interval?: number;
  /** Drop the connection when the probe gets no frame within this many ms. @default 10000 */
  timeout?: number;
  /**
   * Browsers (which cannot send a ping): a text message sent as the probe. Without it, a
   * browser only watches for incoming messages. Ignored on Node, which pings. @default undefined
   */
  message?: string;
}

/** What `send` accepts. Views send only the viewed bytes (extension). */
export type SocketData = string | ArrayBuffer | ArrayBufferView;

/** The options of {@link SocketTask.send} and {@link QQ.sendSocketMessage}. */
export interface SendSocketMessageOption<Send = SocketData> extends Callbacks {
  /**
   * The message: a string goes as a text frame, bytes as a binary frame. With a pipeline, any
   * other value goes to the stage's `send`, which encodes it.
   */
  data: Send;
  /** Extension: move the caller's ArrayBuffer instead of copying it (it is detached on return). @default false */
  transfer?: boolean;
}

/** The options of {@link SocketTask.close} and {@link QQ.closeSocket}. */
export interface CloseSocketOption extends Callbacks {
  /** 1000 or 3000–4999. @default 1000 */
  code?: number;
  /** At most 123 UTF-8 bytes. @default "" */
  reason?: string;
}

/** Connection timing in ms on the main thread's `performance.now()` clock. */
export interface SocketProfile {
  /** When the host began to connect. */
  connectStart: number;
  /** When the TCP (and TLS) connection was established. */
  connectEnd: number;
  /** From connectEnd to the handshake's response. */
  handshakeCost: number;
  /** From connectStart to open. */
  cost: number;
}

/** What an open listener receives: the socket is OPEN. */
export interface OnOpenResult {
  /** The handshake's HTTP response headers (lower-case names); `{}` in browsers. */
  header: Record<string, string>;
  /** How long connecting took (WeChat's field; an extension for QQ). */
  profile: SocketProfile;
  /** Extension (`reconnect`): an earlier connection of this task had opened. */
  reconnected?: true;
  /** Extension (`reconnect`): the retry of the outage that opened this connection (from 1). */
  attempt?: number;
}

/** What a reconnect listener receives: a connection was lost and will be tried again. */
export interface OnReconnectResult {
  /** The retry to come, counted per outage from 1. */
  attempt: number;
  /** The wait before it (ms). */
  delay: number;
  /** The lost connection's close code (1006 when it dropped or never opened). */
  code: number;
  /** Its close reason (`abnormal closure` with 1006). */
  reason: string;
  /** Why it was lost, as onError would have said it. */
  errMsg: string;
}

/** What a message listener receives: one whole message. */
export interface OnMessageResult<Data = string | ArrayBuffer> {
  /**
   * A string for a text message; for a binary one an ArrayBuffer of exactly the message's bytes,
   * owned by the receiver (never a Blob, a Buffer or a view). With a pipeline: what the stage
   * emitted.
   */
  data: Data;
  /** Extension, with a pipeline: the key the stage emitted this value with. */
  key?: string;
  /** Extension, with a pipeline and a key: how many values of that key this one replaced. */
  skipped?: number;
}

/** What an error listener receives; onClose always follows. */
export interface OnErrorResult {
  /** A readable reason, such as `connect ECONNREFUSED 127.0.0.1:9` (docs/semantics.md "Events"). */
  errMsg: string;
}

/** What a close listener receives: the task's last event. */
export interface OnCloseResult {
  /**
   * The close frame's code (the server's, or ours); 1005 when the frame had none; 1006 when the
   * connection ended without a close frame; 1002, 1007 or 1009 when the client failed the
   * connection for what the server sent.
   */
  code: number;
  /** The close frame's reason; `"abnormal closure"` with 1006. */
  reason: string;
}

/** A listener of {@link SocketTask.onReconnect}. */
export type OnReconnectCallback = (result: OnReconnectResult) => void;
/** A listener of {@link SocketTask.onOpen} and {@link QQ.onSocketOpen}. */
export type OnOpenCallback = (result: OnOpenResult) => void;
/** A listener of {@link SocketTask.onMessage} and {@link QQ.onSocketMessage}. */
export type OnMessageCallback<Data = string | ArrayBuffer> = (result: OnMessageResult<Data>) => void;
/** A listener of {@link SocketTask.onError} and {@link QQ.onSocketError}. */
export type OnErrorCallback = (result: OnErrorResult) => void;
/** A listener of {@link SocketTask.onClose} and {@link QQ.onSocketClose}. */
export type OnCloseCallback = (result: OnCloseResult) => void;

/** The socket states, as on the WebSocket interface. */
export type ReadyState = 0 | 1 | 2 | 3;

/** A WebSocket connection, as returned by `connectSocket`. */
/**
 * A connection as connectSocket returns it. `Data`: what onMessage receives; `Send`: what `send`
 * takes (with a pipeline: `unknown` both, what the stage emits and encodes).
 */
export interface SocketTask<Data = string | ArrayBuffer, Send = SocketData> {
  /**
   * Sends one message when the task is OPEN (else fails with `SocketTask.send:fail
   * SocketTask.readyState is not OPEN`). `success` comes once the frame was handed to the socket.
   * The caller's bytes are copied at call time, or moved with `transfer: true`.
   */
  send(option: SendSocketMessageOption<Send>): void;
  /**
   * Closes the task (code 1000 or 3000–4999, reason at most 123 UTF-8 bytes). On a CONNECTING
   * task it aborts the handshake, and onClose reports the code given here (a deviation from
   * WeChat, which ignores it). Fails on a CLOSING or CLOSED task.
   */
  close(option?: CloseSocketOption): void;
  /** Adds an open listener. Listeners accumulate; the same function is added once. */
  onOpen(callback: OnOpenCallback): void;
  /** Adds a message listener; messages come only after open, in the order the server sent them. */
  onMessage(callback: OnMessageCallback<Data>): void;
  /** Adds an error listener; an error is always followed by the close. */
  onError(callback: OnErrorCallback): void;
  /** Adds a close listener; the close comes exactly once, as the task's last event. */
  onClose(callback: OnCloseCallback): void;
  /** Extension: remove a listener added with `onOpen`. */
  offOpen(callback: OnOpenCallback): void;
  /** Extension: remove a listener added with `onMessage`. */
  offMessage(callback: OnMessageCallback<Data>): void;
  /** Extension: remove a listener added with `onError`. */
  offError(callback: OnErrorCallback): void;
  /** Extension: remove a listener added with `onClose`. */
  offClose(callback: OnCloseCallback): void;
  /**
   * Extension (`reconnect`): a connection was lost and will be tried again; the task is
   * CONNECTING until the next onOpen. Listeners accumulate, as onOpen's do.
   */
  onReconnect(callback: OnReconnectCallback): void;
  /** Extension: remove a listener added with `onReconnect`. */
  offReconnect(callback: OnReconnectCallback): void;
  /** Extension: this task's id, as in the connectSocket success result. */
  readonly socketTaskId: number;
  /** Extension: 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED. */
  readonly readyState: ReadyState;
  /**
   * Extension: bytes accepted by `send` and not yet written to the network. In browsers this
   * includes what the host's WebSocket still holds; with `share: true`, every holder's sends.
   */
  readonly bufferedAmount: number;
  /** Extension: the sub-protocol the server chose ("" before open or when none). */
  readonly protocol: string;
  /** Extension: the url given to connectSocket (a url function: the url of the latest attempt, "" before the first). */
  readonly url: string;
  /** Extension: the {@link readyState} of a task whose handshake is under way. */
  readonly CONNECTING: 0;
  /** Extension: the {@link readyState} of a task that may send. */
  readonly OPEN: 1;
  /** Extension: the {@link readyState} of a task whose close was asked for. */
  readonly CLOSING: 2;
  /** Extension: the {@link readyState} of a task that got its close event (or never opened). */
  readonly CLOSED: 3;
}

/** Where the sockets live. Node: `thread`, `inline`. Browsers: `worker`, `shared`, `inline`. */
export type Backend = 'auto' | 'thread' | 'worker' | 'shared' | 'inline';

/** TLS settings for wss on Node (passed to `tls.connect`). */
export interface TlsConfig {
  /** Certificate authorities to trust instead of Node's own list (a private CA), as PEM. */
  ca?: string | string[];
  /** A client certificate, as PEM, for servers that ask for one. */
  cert?: string;
  /** The client certificate's private key, as PEM. */
  key?: string;
  /** `false` accepts any server certificate; certificates are verified unless so. @default true */
  rejectUnauthorized?: boolean;
}

/** Browsers, backend `shared`: what holds the shared sockets ({@link QQOptions.sharing}). */
export type Sharing = 'auto' | 'shared-worker' | 'leader';

/** Options of {@link createQQ}. */
export interface QQOptions {
  /**
   * Where sockets live: `thread` (Node: a worker thread from a shared piscina pool), `worker`
   * (browsers: a dedicated Web Worker), `shared` (browsers: a SharedWorker every tab of the origin
   * reaches; falls back to `worker` where SharedWorker is missing), `inline` (on this thread; for
   * runtimes without workers and as a benchmark baseline), or `auto`.
   * @default 'auto' (thread under Node, worker in browsers; inline, with one warning, where there
   * is no Web Worker)
   */
  backend?: Backend;
  /**
   * Where the host's script is, for bundlers that move files. Browsers: the URL of worker.js
   * (relative to the page), with shared-worker.js beside it. Node: the path (relative to the
   * working directory) or file: URL of node-thread.js.
   * @default the package's own, beside the module
   */
  workerUrl?: string | URL;
  /**
   * Browsers, backend `shared`: what holds the sockets every tab shares. `shared-worker`: the
   * origin's SharedWorker. `leader`: the tabs elect one with a Web Lock, whose dedicated worker
   * serves them all through BroadcastChannels; when it goes, the next tab leads, and the sockets it
   * held end (onError `socket host died: the leader tab went away` + onClose(1006)) or, with
   * `reconnect`, connect again through the new leader. `auto`: the SharedWorker where it can serve
   * the page (it exists, and the script is on the page's origin), else a leader. Where neither can
   * (an insecure or sandboxed page without SharedWorker), `worker`, with one warning.
   * @default 'auto'
   */
  sharing?: Sharing;
  /** Most tasks that may be CONNECTING, OPEN or CLOSING at once. @default 5 */
  maxConnections?: number;
  /** Handshake timeout in ms when connectSocket gives none. @default 60000 */
  connectTimeout?: number;
  /** Hosts a url may name: exact names or `*.suffix`. @default undefined (any host) */
  allowedHosts?: string[];
  /** Refuse `ws://` urls. @default false */
  requireSecure?: boolean;
  /** Largest message accepted from the server, in bytes; a bigger one closes with 1009. @default 104857600 (100 MiB) */
  maxPayload?: number;
  /** TLS for wss (Node only). Certificates are verified unless `rejectUnauthorized: false`. @default {} */
  tls?: TlsConfig;
  /**
   * Node only: an HTTP proxy every connection goes through, as `http://[user:password@]host[:port]`
   * (a tunnel by CONNECT; wss stays encrypted end to end). An empty string means none, as in an
   * empty `HTTPS_PROXY`. Browsers use their own proxy settings. @default undefined (direct)
   */
  proxy?: string | URL;
  /**
   * Node, with `proxy`: hosts reached directly, as NO_PROXY lists them (a NO_PROXY value may be
   * passed as it is): `*` for all; `example.com` for it and its subdomains, `.example.com` for
   * subdomains only; an IP address, or a block as `10.0.0.0/8`; `:port` after a name or an
   * address (`[::1]:8080`) for that port only. Loopback is not implied: name it
   * (`'localhost,127.0.0.0/8,::1'`). @default undefined (every host through the proxy)
   */
  noProxy?: string | string[];
  /**
   * Most worker threads the process-wide pool may start for all `thread` instances with the same
   * setting. @default 1
   */
  threads?: number;
  /**
   * Browsers, backend `shared`, on an insecure origin (plain http:// other than localhost), where
   * there are no Web Locks to tell a tab and the shared worker that the other died: after this
   * many ms without a word, the shared worker takes a tab for gone (its sockets close, its shares
   * are released) and a tab takes the shared worker for dead (its tasks get onError +
   * onClose(1006)). A tab paused this long in a debugger is taken for gone too. At least 1000;
   * 0 (or Infinity, or more than 2^31 - 1) is never. @default 30000
   */
  heartbeat?: number;
  /**
   * What the host tells about its sockets (connect, open, errors, close, flow control pausing and
   * resuming a socket, a share's holders): entries at this level and above go to this thread's
   * console (`'debug'` everything, `'info'` connections, errors and closes), or every entry to a
   * function. Entries come from every backend, a shared worker's to each tab that holds the task.
   * No entry carries a header's value, nor a url's user and password or its query (`?…`).
   * @default 'warn' (no entry: nothing the host does is at warn level)
   */
  log?: LogLevel | ((entry: LogEntry) => void);
  /**
   * The pipeline module: the app's code that runs in the host and exports stages, imported there
   * by the first task that names one (`connectSocket({ pipeline: 'name' })`). Browsers: a URL,
   * relative to the page (`new URL('./feed.pipeline.js', import.meta.url)` lets bundlers find
   * it). Node: a path or a file: URL. @default undefined (only the built-in `json` stage)
   */
  pipeline?: string | URL;
}

/** How much of what the host does {@link QQOptions.log} tells. */
export type LogLevel = 'debug' | 'info' | 'warn';

/** What a host's log entry is about. */
export type LogEvent = 'connect' | 'open' | 'error' | 'close' | 'pause' | 'resume' | 'share' | 'reconnect';

/** One entry of {@link QQOptions.log}. */
export interface LogEntry {
  /** `'debug'` (flow control, a share's holders) or `'info'` (everything else). */
  level: LogLevel;
  /** When the host saw it: ms since the epoch, with a fraction. */
  time: number;
  /** The task it is about. */
  socketTaskId: number;
  /** What happened. */
  event: LogEvent;
  /** One line for a person, e.g. `open wss://example.test/feed?… (protocol v1)`. */
  message: string;
}

/** Counters of one live task, from {@link QQ.stats}. */
export interface TaskStats {
  /** The task's {@link SocketTask.socketTaskId}. */
  socketTaskId: number;
  /** Its url, without user, password or query (`?…`). */
  url: string;
  /** As {@link SocketTask.readyState}. */
  readyState: ReadyState;
  /** Messages received from the server (delivered or on their way to this thread). */
  messagesIn: number;
  /** Their size: bytes of binary messages, UTF-16 code units of text, as flow control weighs them. */
  bytesIn: number;
  /** Sends the socket took (success). */
  messagesOut: number;
  /** Their bytes (text as UTF-8). */
  bytesOut: number;
  /** Sends accepted and not yet taken by the socket (their bytes are in bufferedAmount). */
  sendsWaiting: number;
  /** As {@link SocketTask.bufferedAmount}. */
  bufferedAmount: number;
  /** How long flow control kept the socket from reading, in all (ms): this thread fell behind. */
  pausedMs: number;
  /** Tasks holding its socket: 1, or a share's holders across every tab. */
  holders: number;
}

/** The host's own counters, from {@link QQ.stats}. */
export interface HostCounters {
  /** Sockets the host holds for this instance. */
  sockets: number;
  /** Batches the host posted to this thread. */
  batchesOut: number;
  /** Batches the host received from this thread. */
  batchesIn: number;
  /** Bytes posted to this thread and not yet dispatched. */
  inFlightBytes: number;
  /** Messages posted to this thread and not yet dispatched. */
  inFlightMessages: number;
  /** How often flow control paused a socket. */
  pauses: number;
  /** How often flow control resumed one. */
  resumes: number;
}

/** {@link QQ.stats}: cheap enough to ask once a second. */
export interface QQStats {
  /** The host's counters; undefined while no host runs (none started yet, or released when idle). */
  host: HostCounters | undefined;
  /** Every task that is CONNECTING, OPEN or CLOSING, in creation order. */
  tasks: TaskStats[];
}

/** Options that carry at least one callback (then no Promise is returned). */
export type WithCallback =
  | {
      /** As {@link Callbacks.success}. */
      success: (result: GeneralCallbackResult) => void;
    }
  | {
      /** As {@link Callbacks.fail}. */
      fail: (result: GeneralCallbackResult) => void;
    }
  | {
      /** As {@link Callbacks.complete}. */
      complete: (result: GeneralCallbackResult) => void;
    };

/** What a pipeline stage's handlers get to act with (docs/semantics.md "Pipelines"). */
export interface StageContext<Value = unknown> {
  /**
   * A value for the page (structured-cloned; the ArrayBuffers in `transfer` are moved). With a
   * `key`, it replaces the value of that key the page has not received yet.
   */
  emit(value: Value, key?: string, transfer?: ArrayBuffer[]): void;
  /** Sends to the server from the host (a string as text, bytes as binary). */
  send(data: string | ArrayBuffer | ArrayBufferView): void;
  /** Closes the connection (1000, or 3000–4999), as the task's `close` would. */
  close(code?: number, reason?: string): void;
  /** The task's id (a share: its first holder's). */
  readonly socketTaskId: number;
  /** The url the task connected to. */
  readonly url: string;
  /** The sub-protocol the server chose ('' before open). */
  readonly protocol: string;
}

/** A pipeline stage's handlers; only `message` is required. */
export interface Stage<Send = never> {
  /** Each message from the server: a string, or an ArrayBuffer of its own. */
  message(data: string | ArrayBuffer): void;
  /** Encodes `task.send({ data })` of what is not a string or bytes. */
  send?(value: Send): string | ArrayBuffer | ArrayBufferView;
  /** Each connection that opens. */
  open?(result: { protocol: string }): void;
  /** Each connection that ends (with `reconnect`: each loss, too). */
  close?(result: { code: number; reason: string }): void;
}

/**
 * A pipeline stage: an export of the pipeline module, called once per task with its context.
 * Annotate a stage with it, and give `createQQ` the module's type
 * (`createQQ<typeof import('./feed.pipeline.js')>(...)`): onMessage's `data` is then `Value`, and
 * `send` takes `Send`, for the tasks that name the stage.
 */
// biome-ignore lint/suspicious/noExplicitAny: a stage's value and send types are the module's own
export type StageFactory<Value = any, Send = any> = (ctx: StageContext<Value>) => Stage<Send>;

/** A pipeline module's exports, as far as `createQQ`'s typing sees them. */
export type PipelineModule = Record<string, unknown>;

/** What stage `N` of pipeline module `M` emits (unknown for a stage the type does not know). */
export type ValueOf<M, N> = N extends keyof M ? (M[N] extends StageFactory<infer V, unknown> ? V : unknown) : unknown;
/** What stage `N` of pipeline module `M` encodes in its `send` (unknown for a stage the type does not know). */
export type SendOf<M, N> = N extends keyof M ? (M[N] extends StageFactory<unknown, infer S> ? S : unknown) : unknown;

/**
 * The `qq` object: the mini-program socket API plus `destroy` and `stats`. `M`: the pipeline
 * module's type, for the tasks that name one of its stages.
 */
export interface QQ<M extends PipelineModule = PipelineModule> {
  /**
   * Starts connecting and returns the task at once; never throws. `success` means the task was
   * created (not that it is open) and comes in a microtask after the call returned. Bad input
   * fails and returns a task that is already CLOSED. The new task becomes the bound one (the
   * task the global functions act on) when there is none or the bound one is CLOSED.
   */
  connectSocket<N extends string>(
    option: ConnectSocketOption & { pipeline: N },
  ): SocketTask<ValueOf<M, N>, SocketData | SendOf<M, N>>;
  /** As above, without a pipeline: messages are strings and ArrayBuffers. */
  connectSocket(option: ConnectSocketOption): SocketTask;
  /**
   * Sends on the bound task if it is OPEN, else fails with `sendSocketMessage:fail WebSocket is
   * not connected`. With a callback: returns nothing.
   */
  sendSocketMessage(option: SendSocketMessageOption & WithCallback): void;
  /**
   * Without any callback: returns a Promise that resolves with the success result and rejects
   * with the fail result (a rejection nobody awaits is logged, never an unhandled rejection).
   */
  sendSocketMessage(option: SendSocketMessageOption): Promise<GeneralCallbackResult>;
  /**
   * Closes the bound task if it is CONNECTING or OPEN, else fails with `closeSocket:fail
   * WebSocket is not connected`. With a callback: returns nothing.
   */
  closeSocket(option: CloseSocketOption & WithCallback): void;
  /** Without any callback: returns a Promise of the result, as {@link sendSocketMessage} does. */
  closeSocket(option?: CloseSocketOption): Promise<GeneralCallbackResult>;
  /** Sets the one open listener of the bound task (the last registration wins). */
  onSocketOpen(callback: OnOpenCallback): void;
  /** Sets the one message listener of the bound task (the last registration wins). */
  onSocketMessage(callback: OnMessageCallback): void;
  /** Sets the one error listener of the bound task (the last registration wins). */
  onSocketError(callback: OnErrorCallback): void;
  /** Sets the one close listener of the bound task (the last registration wins). */
  onSocketClose(callback: OnCloseCallback): void;
  /** Extension: clear the global open slot. */
  offSocketOpen(callback?: OnOpenCallback): void;
  /** Extension: clear the global message slot. */
  offSocketMessage(callback?: OnMessageCallback): void;
  /** Extension: clear the global error slot. */
  offSocketError(callback?: OnErrorCallback): void;
  /** Extension: clear the global close slot. */
  offSocketClose(callback?: OnCloseCallback): void;
  /** Closes every socket (1001) and ends the host. Later connectSocket calls fail. */
  destroy(): Promise<void>;
  /** Extension: the counters of every live task and of the host. */
  stats(): Promise<QQStats>;
}
