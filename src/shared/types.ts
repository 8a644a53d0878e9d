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
  /** `ws://` or `wss://` url, without a fragment. */
  url: string;
  /** Handshake headers (Node only). `Referer` is refused. @default {} */
  header?: Record<string, unknown>;
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
}

/** What `send` accepts. Views send only the viewed bytes (extension). */
export type SocketData = string | ArrayBuffer | ArrayBufferView;

/** The options of {@link SocketTask.send} and {@link QQ.sendSocketMessage}. */
export interface SendSocketMessageOption extends Callbacks {
  /** The message: a string goes as a text frame, bytes as a binary frame. */
  data: SocketData;
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
}

/** What a message listener receives: one whole message. */
export interface OnMessageResult {
  /**
   * A string for a text message; for a binary one an ArrayBuffer of exactly the message's bytes,
   * owned by the receiver (never a Blob, a Buffer or a view).
   */
  data: string | ArrayBuffer;
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

/** A listener of {@link SocketTask.onOpen} and {@link QQ.onSocketOpen}. */
export type OnOpenCallback = (result: OnOpenResult) => void;
/** A listener of {@link SocketTask.onMessage} and {@link QQ.onSocketMessage}. */
export type OnMessageCallback = (result: OnMessageResult) => void;
/** A listener of {@link SocketTask.onError} and {@link QQ.onSocketError}. */
export type OnErrorCallback = (result: OnErrorResult) => void;
/** A listener of {@link SocketTask.onClose} and {@link QQ.onSocketClose}. */
export type OnCloseCallback = (result: OnCloseResult) => void;

/** The socket states, as on the WebSocket interface. */
export type ReadyState = 0 | 1 | 2 | 3;

/** A WebSocket connection, as returned by `connectSocket`. */
export interface SocketTask {
  /**
   * Sends one message when the task is OPEN (else fails with `SocketTask.send:fail
   * SocketTask.readyState is not OPEN`). `success` comes once the frame was handed to the socket.
   * The caller's bytes are copied at call time, or moved with `transfer: true`.
   */
  send(option: SendSocketMessageOption): void;
  /**
   * Closes the task (code 1000 or 3000–4999, reason at most 123 UTF-8 bytes). On a CONNECTING
   * task it aborts the handshake, and onClose reports the code given here (a deviation from
   * WeChat, which ignores it). Fails on a CLOSING or CLOSED task.
   */
  close(option?: CloseSocketOption): void;
  /** Adds an open listener. Listeners accumulate; the same function is added once. */
  onOpen(callback: OnOpenCallback): void;
  /** Adds a message listener; messages come only after open, in the order the server sent them. */
  onMessage(callback: OnMessageCallback): void;
  /** Adds an error listener; an error is always followed by the close. */
  onError(callback: OnErrorCallback): void;
  /** Adds a close listener; the close comes exactly once, as the task's last event. */
  onClose(callback: OnCloseCallback): void;
  /** Extension: remove a listener added with `onOpen`. */
  offOpen(callback: OnOpenCallback): void;
  /** Extension: remove a listener added with `onMessage`. */
  offMessage(callback: OnMessageCallback): void;
  /** Extension: remove a listener added with `onError`. */
  offError(callback: OnErrorCallback): void;
  /** Extension: remove a listener added with `onClose`. */
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

/** The `qq` object: the mini-program socket API plus `destroy`. */
export interface QQ {
  /**
   * Starts connecting and returns the task at once; never throws. `success` means the task was
   * created (not that it is open) and comes in a microtask after the call returned. Bad input
   * fails and returns a task that is already CLOSED. The new task becomes the bound one (the
   * task the global functions act on) when there is none or the bound one is CLOSED.
   */
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
}
