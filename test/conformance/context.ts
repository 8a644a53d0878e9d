/** What every part of the conformance suite gets from `conformance()` (index.ts). */
import type { Backend, QQ, QQOptions, SocketTask } from 'qq-socket-worker';
import type { EngineName } from '../helpers/engines.js';
import type { PeerServer, Peers, Runtime } from '../helpers/peers.js';
import type { record } from '../helpers/record.js';

export interface Context {
  backend: Backend;
  runtime: Runtime;
  /** `runtime.peers`. */
  peers: Peers;
  /** Whether the suite runs in a browser. */
  browser: boolean;
  /**
   * The browser engine (`runtime.engine`), undefined on Node: where an engine differs, a test
   * asserts that engine's exact behaviour.
   */
  engine: EngineName | undefined;
  /** Browsers do not say why a connection failed, only that it did (docs/semantics.md "Browsers"). */
  failed(url: string, nodeReason: string): string;
  /**
   * The peers every test may use, started once per file (beforeAll): read them inside a test,
   * not when the suite is declared.
   */
  readonly server: PeerServer;
  readonly tlsServer: PeerServer;
  readonly python: { url: string; close(): Promise<void> };
  /** A fresh qq instance, destroyed after the test. */
  makeQQ(options?: QQOptions): QQ;
  /** Connects and waits for open. */
  open(qq: QQ, path?: string, extra?: object): Promise<{ task: SocketTask; rec: ReturnType<typeof record> }>;
}

/** `n` bytes counting 0, 1, 2… (mod 256). */
export const bytes = (n: number) => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = i & 0xff;
  return out;
};
/** Whether a received message is binary of exactly the bytes of `b`. */
export const same = (a: ArrayBuffer | string, b: Uint8Array) => {
  if (typeof a === 'string' || a.byteLength !== b.byteLength) return false;
  const view = new Uint8Array(a);
  return view.every((x, i) => x === b[i]);
};
