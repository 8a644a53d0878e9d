/** Public API types: the QQ mini-program WebSocket API and our extensions. */
import type { TlsConfig } from './protocol.js';

export type { TlsConfig };

/** Every callback result carries `errMsg`: `"<api>:ok"` or `"<api>:fail <detail>"`. */
export interface GeneralCallbackResult {
  errMsg: string;
}

/** The success/fail/complete trio every API call accepts. */
export interface Callbacks<Success = GeneralCallbackResult> {
  success?: (result: Success) => void;
  fail?: (result: GeneralCallbackResult) => void;
  complete?: (result: Success | GeneralCallbackResult) => void;
}

/** `connectSocket` success result: the task exists (not: the socket is open). */
export interface ConnectSocketSuccessResult extends GeneralCallbackResult {
  socketTaskId: number;
}

export interface ConnectSocketOption extends Callbacks<ConnectSocketSuccessResult> {
  /** `ws://` or `wss://` url, without a fragment. */
  url: string;
  /** Handshake headers (Node only). `Referer` is refused. */
  header?: Record<string, unknown>;
  /** Sub-protocols. */
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
}

/** What `send` accepts. Views send only the viewed bytes (extension). */
export type SocketData = string | ArrayBuffer | ArrayBufferView;

export interface SendSocketMessageOption extends Callbacks {
  data: SocketData;
  /** Extension: move the caller's ArrayBuffer instead of copying it (it is detached on return). */
  transfer?: boolean;
}

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

export interface OnOpenResult {
  /** The handshake's HTTP response headers (lower-case names). */
  header: Record<string, string>;
  profile: SocketProfile;
}

export interface OnMessageResult {
  data: string | ArrayBuffer;
}

export interface OnErrorResult {
  errMsg: string;
}

export interface OnCloseResult {
  code: number;
  reason: string;
}

export type OnOpenCallback = (result: OnOpenResult) => void;
export type OnMessageCallback = (result: OnMessageResult) => void;
export type OnErrorCallback = (result: OnErrorResult) => void;
export type OnCloseCallback = (result: OnCloseResult) => void;

/** The socket states, as on the WebSocket interface. */
export type ReadyState = 0 | 1 | 2 | 3;

/** A WebSocket connection, as returned by `connectSocket`. */
export interface SocketTask {
  send(option: SendSocketMessageOption): void;
  close(option?: CloseSocketOption): void;
  onOpen(callback: OnOpenCallback): void;
  onMessage(callback: OnMessageCallback): void;
  onError(callback: OnErrorCallback): void;
  onClose(callback: OnCloseCallback): void;
  /** Extension: remove a listener added with `onOpen`. */
  offOpen(callback: OnOpenCallback): void;
  offMessage(callback: OnMessageCallback): void;
  offError(callback: OnErrorCallback): void;
  offClose(callback: OnCloseCallback): void;
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
  /** Extension: the url given to connectSocket. */
  readonly url: string;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;
}

/** Where the sockets live. Node: `thread`, `inline`. Browsers: `worker`, `shared`, `inline`. */
export type Backend = 'auto' | 'thread' | 'worker' | 'shared' | 'inline';

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
}

/** Options that carry at least one callback (then no Promise is returned). */
export type WithCallback =
  | { success: (result: GeneralCallbackResult) => void }
  | { fail: (result: GeneralCallbackResult) => void }
  | { complete: (result: GeneralCallbackResult) => void };

/** The `qq` object: the mini-program socket API plus `destroy`. */
export interface QQ {
  connectSocket(option: ConnectSocketOption): SocketTask;
  /** With a callback: returns nothing. Without any: returns a Promise of the result. */
  sendSocketMessage(option: SendSocketMessageOption & WithCallback): void;
  sendSocketMessage(option: SendSocketMessageOption): Promise<GeneralCallbackResult>;
  /** With a callback: returns nothing. Without any: returns a Promise of the result. */
  closeSocket(option: CloseSocketOption & WithCallback): void;
  closeSocket(option?: CloseSocketOption): Promise<GeneralCallbackResult>;
  onSocketOpen(callback: OnOpenCallback): void;
  onSocketMessage(callback: OnMessageCallback): void;
  onSocketError(callback: OnErrorCallback): void;
  onSocketClose(callback: OnCloseCallback): void;
  /** Extension: clear the global slot. */
  offSocketOpen(callback?: OnOpenCallback): void;
  offSocketMessage(callback?: OnMessageCallback): void;
  offSocketError(callback?: OnErrorCallback): void;
  offSocketClose(callback?: OnCloseCallback): void;
  /** Closes every socket (1001) and ends the host. Later connectSocket calls fail. */
  destroy(): Promise<void>;
}
