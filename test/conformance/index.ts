/**
 * The conformance suite: every rule of docs/semantics.md, over real servers on 127.0.0.1.
 * Run against each backend by the *.test.ts files in test/: in Node (`inline`, `thread`) and in
 * Chromium, Firefox and WebKit (`worker`, `shared`, `inline`, the *.browser.test.ts files: one
 * vitest project per engine, vitest.config.ts). `qq-socket-worker` is the
 * build the runtime gets (vitest.config.ts), and the peers are reached through `Peers`
 * (helpers/peers.ts). Where a browser cannot do what Node does, the test says what the browser
 * does instead, and docs/semantics.md "Browsers" lists it. Each part of the suite has its file;
 * this one starts the servers they share ({@link Context}) and destroys each test's instances.
 */
import { type Backend, createQQ, type QQ, type QQOptions } from 'qq-socket-worker';
import { afterAll, afterEach, beforeAll, vi } from 'vitest';
import type { PeerServer, Runtime } from '../helpers/peers.js';
import { record } from '../helpers/record.js';
import { connectSocketSuite } from './connect-socket.js';
import type { Context } from './context.js';
import { globalFunctionsSuite } from './global-functions.js';
import { lifecycleSuite } from './lifecycle.js';
import { peersSuite } from './peers.js';
import { socketTaskSuite } from './socket-task.js';
import { wireRulesSuite } from './wire-rules.js';

/** `defaults`: options every instance of the suite gets (`sharing: 'leader'`). */
export function conformance(backend: Backend, runtime: Runtime, defaults: QQOptions = {}): void {
  const { peers } = runtime;
  const browser = runtime.name === 'browser';
  const failed = (url: string, nodeReason: string) =>
    browser ? `WebSocket connection to '${url}' failed` : nodeReason;
  let server: PeerServer;
  let tlsServer: PeerServer;
  let python: { url: string; close(): Promise<void> };
  const instances: QQ[] = [];
  const makeQQ = (options: QQOptions = {}) => {
    const qq = createQQ({ backend, ...defaults, ...options });
    instances.push(qq);
    return qq;
  };
  const open = async (qq: QQ, path = '/echo', extra: object = {}) => {
    const task = qq.connectSocket({ url: `${server.url}${path}`, ...extra });
    const rec = record(task);
    await rec.opened;
    return { task, rec };
  };

  beforeAll(async () => {
    [server, tlsServer, python] = await Promise.all([peers.start(), peers.start({ tls: true }), peers.python()]);
  });
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((qq) => qq.destroy()));
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await Promise.all([server.close(), tlsServer.close(), python.close()]);
  });

  const ctx: Context = {
    backend,
    runtime,
    peers,
    browser,
    engine: runtime.engine,
    failed,
    get server() {
      return server;
    },
    get tlsServer() {
      return tlsServer;
    },
    get python() {
      return python;
    },
    makeQQ,
    open,
  };
  connectSocketSuite(ctx);
  socketTaskSuite(ctx);
  wireRulesSuite(ctx);
  globalFunctionsSuite(ctx);
  peersSuite(ctx);
  lifecycleSuite(ctx);
}
