/**
 * The wire protocol between a facade (main thread) and a host (worker). Types only.
 *
 * Two channels join them:
 * - control (Comlink): {@link HostControl}, rare out-of-band calls (stats, test hooks);
 * - data (a MessagePort): batches of frames, one post per turn in each direction. Every command
 *   and event of a task, and the shutdown handshake, travel on this port: messages on two
 *   different ports have no order between them, and a close must never overtake its sends.
 */

/** Bumped whenever a message changes shape; a host refuses a facade of another version. */
export const PROTOCOL_VERSION = 1;

/** Options the facade hands the host when it starts. */
export interface HostConfig {
  protocolVersion: number;
  maxPayload: number;
  tls: TlsConfig | undefined;
}

/** TLS settings for wss on Node (passed to `tls.connect`). */
export interface TlsConfig {
  ca?: string | string[];
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
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
}

/** One `send`. `offset`/`length` select bytes of a transferred buffer; absent means all of it. */
export interface SendFrame {
  type: 'send';
  id: number;
  data: string | ArrayBuffer;
  offset?: number;
  length?: number;
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
}

/** Facade → host. */
export type Command = ConnectFrame | SendFrame | CloseFrame | ShutdownFrame;

/** The handshake finished. `time` values are absolute hi-res epoch ms (timeOrigin + now). */
export interface OpenEvent {
  type: 'open';
  id: number;
  header: Record<string, string>;
  protocol: string;
  profile: { connectStart: number; connectEnd: number; handshakeEnd: number };
}

export interface MessageEvent {
  type: 'message';
  id: number;
  data: string | ArrayBuffer;
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

/** The host's last frame: every socket is closed and the host has ended. */
export interface EndedEvent {
  type: 'ended';
}

/** Host → facade. */
export type HostEvent = OpenEvent | MessageEvent | ErrorEvent | CloseEvent | SentEvent | EndedEvent;

/** What crosses the data port in either direction: one array per post. */
export type Batch<T> = T[];

/** The Comlink-exposed control surface of a host. */
export interface HostControl {
  /** Open sockets in this host, for tests and diagnostics. */
  stats(): { sockets: number };
  /** Test hook: makes the host die the given way. */
  crash(how: 'throw' | 'exit' | 'oom'): void;
}
