/**
 * What the conformance suite needs of its peers, without saying where they run: the suite calls
 * these from Node (the servers live in the test's own process) and from a browser page (the
 * servers live in the vitest process, reached through a browser command). Everything is async
 * and every value is plain data, so both can serve it.
 */
import type { QQOptions } from 'qq-socket-worker';
import type { EngineName } from './engines.js';

/** A message as the server received it: text as a string, binary as its bytes. */
export type ServerMessage = string | number[];

export interface PeerServer {
  url: string;
  /** Request headers of the latest handshake (names in lower case). */
  lastHeaders(): Promise<Record<string, string | string[] | undefined>>;
  /** Messages the latest connection received, in order. */
  lastReceived(): Promise<ServerMessage[]>;
  /** Close code and reason of each connection, in close order. */
  closes(): Promise<Array<{ code: number; reason: string }>>;
  /** Connections currently open. */
  openCount(): Promise<number>;
  /** Resolves once `n` connections closed. */
  closed(n: number): Promise<void>;
  /** The `/stall` connections open now start reading. */
  resumeReading(): Promise<void>;
  /** Drops every connection (no close frame). */
  dropAll(): Promise<void>;
  /** Connections ever accepted. */
  acceptedCount(): Promise<number>;
  close(): Promise<void>;
}

export interface PeerOptions {
  /**
   * `true`: wss with the fixture certificate the runtime under test is told to trust
   * ({@link Runtime.trust}); `'untrusted'`: wss with a certificate nobody trusts.
   */
  tls?: boolean | 'untrusted';
  /** The sub-protocol the server picks: the client's first by default, `false` for none. */
  protocol?: string | false;
}

export interface Peers {
  /** A ws server on 127.0.0.1 (see servers.ts for its behaviour by path). */
  start(options?: PeerOptions): Promise<PeerServer>;
  /** Debian's python3-websockets: an independent implementation. */
  python(): Promise<{ url: string; close(): Promise<void> }>;
  /** A port on 127.0.0.1 where nothing listens. */
  closedPort(): Promise<number>;
}

/** Where the suite runs, and what differs there. */
export interface Runtime {
  name: 'node' | 'browser';
  /** The browser engine (the vitest project's), where `name` is `'browser'`. */
  engine?: EngineName;
  peers: Peers;
  /** Instance options under which the `tls: true` peer's certificate is trusted. */
  trust: QQOptions;
  /**
   * What the runtime says of a self-signed certificate it does not trust. Absent where the
   * harness makes the runtime accept any certificate: vitest's browser mode opens its pages
   * with `ignoreHTTPSErrors` (and a page's wss to an untrusted server then hangs).
   * browser/browser.test.ts checks the refusal in a Chromium launched without it.
   */
  untrustedCertificate?: () => Promise<string>;
  /** Listens for unhandled Promise rejections; returns the function that stops listening. */
  onUnhandledRejection(listener: (reason: unknown) => void): () => void;
  /** MessagePorts still open in this process, where the runtime can tell. */
  openPorts?: () => number;
}
