/**
 * The socket adapter contract: what a host asks of one socket ({@link HostSocket}), what the
 * socket reports back ({@link SocketHandlers}), and the {@link SocketFactory} a runtime provides
 * (node-socket.ts over ws, browser-socket.ts over the native WebSocket, share-pool.ts around
 * the latter). Types only: the host (host.ts) drives it, the adapters implement it.
 */
import type { AsciiText } from '../shared/batch.js';
import type { ConnectFrame, HostConfig, PageFrame, ReconnectEvent } from '../shared/protocol.js';

/**
 * One received message as a socket adapter hands it over, giving up its bytes:
 * - text: a string, or the bytes of large ASCII text ({@link AsciiText}, batch.ts);
 * - binary: a view of the bytes, copied at once, or moved when it spans a whole ArrayBuffer of
 *   transfer size; or an ArrayBuffer of the message's own, moved as is (a browser's WebSocket
 *   makes one per message).
 */
export type Received = string | Uint8Array | ArrayBuffer | AsciiText<Uint8Array>;

/** A reconnecting socket lost a connection and will try again (reconnect.ts). */
export type ReconnectInfo = Omit<ReconnectEvent, 'type' | 'id'>;

/** Where one attempt connects, or why it cannot ({@link SocketHandlers.credentials}). */
export type Credentials = { url: string; headers: Record<string, string> } | { errMsg: string };

/** What a socket adapter reports. Calls after `close` are ignored. */
export interface SocketHandlers {
  /**
   * The handshake finished. `connectEnd`: when TCP/TLS was up (absolute ms). `again`: a
   * reconnecting socket's open after a retry, or after an earlier connection opened.
   */
  open(
    header: Record<string, string>,
    protocol: string,
    connectEnd: number,
    again?: { attempt: number; reconnected: boolean },
  ): void;
  message(data: Received): void;
  /**
   * `closeCode`: the code we put in our own close frame because of what the server sent.
   * `status`: the HTTP status of a handshake the server refused.
   */
  error(errMsg: string, closeCode?: number, status?: number): void;
  close(code: number, reason: string): void;
  /** A frame that carries no message came from the server (a pong, a ping): it is alive. */
  pong?(): void;
  /** A reconnecting socket lost its connection and will try again; events go on after `open`. */
  reconnect?(info: ReconnectInfo): void;
  /** Asks the task's facade where attempt `attempt` connects (url or header functions). */
  credentials?(attempt: number): Promise<Credentials>;
  /** A share's holders (across every tab), whenever that changed. */
  holders?(count: number): void;
  /**
   * A stage's value for the page (pipeline.ts), in place of messages: with a `key`, it replaces
   * the value of that key the page has not received yet. `transfer`: ArrayBuffers it moves.
   */
  value?(value: unknown, key: string | undefined, transfer: ArrayBuffer[] | undefined): void;
  /** A message went to a stage instead of the page (counted in stats). */
  received?(data: Received): void;
  /**
   * What the socket itself still buffers of what it was handed (a browser's WebSocket: its
   * bufferedAmount), when that changed. Node's adapter acknowledges a send only once written.
   */
  buffered?(bytes: number): void;
}

/**
 * A send's outcome: handed to the network, or the error (whose `errMsg`, if it has one, is what
 * the task hears; otherwise that the socket closed first).
 */
export type SendDone = (error?: (Error & { errMsg?: string }) | null) => void;

/** One socket, as the host drives it. */
export interface HostSocket {
  /** Writes one frame; `done` runs once it was handed to the network, or with the error. */
  send(data: string | Uint8Array, done: SendDone): void;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
  /** Drops the connection at once (handshake abort, timeout, shutdown that took too long). */
  abort(): void;
  /**
   * Stops and restarts reading from the network (flow control). Absent where a socket cannot
   * stop reading (a browser's WebSocket; a share, which one holder must not stop for the others):
   * a task whose facade falls too far behind on such a socket is failed instead (flow-control.ts).
   */
  pause?(): void;
  resume?(): void;
  /** Messages the adapter read itself rather than through ws's receiver (frame-reader.ts). */
  readonly framesTaken?: number;
  /** Sends a ping frame (where the runtime can: not browsers). The server's pong: `pong`. */
  ping?(): void;
  /** The page's life (browsers): see {@link PageFrame}. */
  page?(event: PageFrame['event']): void;
  /** A pipeline's socket: `task.send({ data })` of a value, encoded by the stage. */
  sendValue?(value: unknown, done: SendDone): void;
}

/**
 * Opens one socket for `frame` and reports to `handlers`. It may throw, or report a failure
 * before it returns: the host then fails the task.
 */
export type SocketFactory = (frame: ConnectFrame, config: HostConfig, handlers: SocketHandlers) => HostSocket;
