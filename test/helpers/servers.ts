/**
 * Real servers on 127.0.0.1 (port 0) for the suites: a `ws` server whose behaviour is chosen by
 * the request path, its TLS twin, a raw TCP server for broken handshakes, and Debian's
 * python3-websockets as an independent peer.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { type WebSocket, WebSocketServer } from 'ws';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
export const TLS_CERT = readFileSync(fixture('cert.pem'), 'utf8');
export const TLS_KEY = readFileSync(fixture('key.pem'), 'utf8');
/** A second self-signed certificate that no runtime under test is told to trust. */
const OTHER_CERT = readFileSync(fixture('other-cert.pem'), 'utf8');
const OTHER_KEY = readFileSync(fixture('other-key.pem'), 'utf8');

/** What a test can see of the server side. */
export interface ServerLog {
  /** Messages received, per connection in accept order. */
  received: Array<Array<string | Buffer>>;
  /** Request headers of each handshake. */
  headers: http.IncomingHttpHeaders[];
  /** Request path (with its query) of each handshake. */
  paths: string[];
  /** Close code/reason each connection saw, in close order. */
  closes: Array<{ code: number; reason: string }>;
  /** Connections currently open. */
  open: number;
  /** Connections ever accepted. */
  accepted: number;
}

export interface TestServer {
  url: string;
  port: number;
  log: ServerLog;
  sockets: Set<WebSocket>;
  /** Sends `<prefix>0` … `<prefix><n - 1>` on every connection open now. */
  broadcast(prefix: string, n: number): void;
  /** Resolves once `n` connections closed. */
  closed(n: number): Promise<void>;
  /** The `/stall` connections open now start reading. */
  resumeReading(): void;
  /** Drops every connection (no close frame): what a crash or a dead network does. */
  dropAll(): void;
  close(): Promise<void>;
}

/**
 * Behaviour by path:
 * - `/echo` (default): echoes every message, text as text, binary as binary.
 * - `/close/<code>/<reason>`: closes right after open; code 0 = a close frame without status.
 * - `/drop`: destroys the TCP connection right after open (no close frame).
 * - `/burst/<n>/<code>`: sends n text messages `m0..`, then closes with code.
 * - `/paced/<ticks>/<per>`: every millisecond for `ticks` ms, sends `per` text messages, then closes.
 * - `/headers`: sends the handshake request headers back as one JSON text message.
 * - `/bytes/<n>`: sends one binary message of n bytes (i & 0xff), then echoes.
 * - `/raw/<hex>`: writes these raw bytes (a hand-made frame) on the socket after open.
 * - `/book/<n>/<k>`: sends n order-book deltas over k symbols (`S0..`; a trade every tenth), then
 *   `{"e":"done"}`, as the pipeline tests' `book` stage expects.
 * - `/stall`: reads nothing until the test calls `resumeReading()`, then counts binary bytes;
 *   answers the text `count` with `received <bytes>`. Served without permessage-deflate, so a
 *   browser does not spend a core compressing what the test sends to fill the buffers.
 * - `/silent`: accepts, reads, never answers.
 * - `/late/<ms>/<rest>`: answers the handshake after ms, then behaves as `/<rest>`.
 * - `/after-message/<rest>`: behaves as `/<rest>` once the client sent a first message (which it
 *   does not keep), so what the server does comes after the client saw the connection open: a
 *   browser may otherwise never fire open for a connection that fails in the same read as its
 *   handshake (Firefox does, at random).
 */
function behave(
  ws: WebSocket,
  path: string,
  req: http.IncomingMessage,
  log: ServerLog,
  index: number,
  stall: (socket: net.Socket) => void,
): void {
  const [, kind = 'echo', a = '', b = ''] = (path.split('?')[0] as string).split('/'); // a query (a token) changes nothing
  const received = log.received[index] as Array<string | Buffer>;
  ws.on('message', (data: Buffer, isBinary) => {
    received.push(isBinary ? data : data.toString('utf8'));
    if (kind === 'echo' || kind === 'bytes') ws.send(data, { binary: isBinary });
  });
  switch (kind) {
    case 'close':
      if (a === '0') ws.close();
      else ws.close(Number(a), decodeURIComponent(b));
      break;
    case 'drop':
      ws.terminate();
      break;
    case 'burst':
      for (let i = 0; i < Number(a); i++) ws.send(`m${i}`);
      ws.close(Number(b || 1000));
      break;
    case 'paced': {
      let tick = 0;
      const timer = setInterval(() => {
        for (let i = 0; i < Number(b); i++) ws.send(`t${tick}.${i}`);
        if (++tick === Number(a)) {
          clearInterval(timer);
          ws.close(1000);
        }
      }, 1);
      ws.on('close', () => clearInterval(timer));
      break;
    }
    case 'headers':
      ws.send(JSON.stringify(req.headers));
      break;
    case 'book':
      for (let i = 0; i < Number(a); i++) {
        if (i % 10 === 9) ws.send('{"e":"trade","p":"1.0"}');
        ws.send(
          `{"e":"depthUpdate","s":"S${i % Number(b)}","u":${i},"b":[["27123.45","0.0123"]],"a":[["27123.46","0.5"]]}`,
        );
      }
      ws.send('{"e":"done"}');
      break;
    case 'bytes': {
      const n = Number(a);
      const bytes = Buffer.alloc(n);
      for (let i = 0; i < n; i++) bytes[i] = i & 0xff;
      ws.send(bytes, { binary: true });
      break;
    }
    case 'raw':
      (ws as unknown as { _socket: net.Socket })._socket.write(Buffer.from(a, 'hex'));
      break;
    case 'stall': {
      // Reads nothing until told (sends back up on the client), then counts binary bytes.
      const socket = (ws as unknown as { _socket: net.Socket })._socket;
      socket.pause();
      stall(socket);
      let bytes = 0;
      ws.on('message', (data: Buffer, isBinary) => {
        if (isBinary) bytes += data.length;
        else if (data.toString() === 'count') ws.send(`received ${bytes}`);
      });
      break;
    }
  }
}

/**
 * A ws server on 127.0.0.1:0; `tls: true` for wss with the self-signed fixture (TLS_CERT),
 * `tls: 'untrusted'` for wss with another self-signed certificate.
 */
export async function startWsServer(
  options: {
    tls?: boolean | 'untrusted';
    protocol?: string | false;
    /** Listen on this port (a server started again where one stopped); 0, any free port, by default. */
    port?: number;
    /** ws's autoPong: false makes a server that never answers a ping. */
    autoPong?: boolean;
  } = {},
): Promise<TestServer> {
  const web =
    options.tls === 'untrusted'
      ? https.createServer({ cert: OTHER_CERT, key: OTHER_KEY })
      : options.tls
        ? https.createServer({ cert: TLS_CERT, key: TLS_KEY })
        : http.createServer();
  // `/status/<n>` rejects the handshake with HTTP n.
  web.on('request', (_req, res) => res.writeHead(400).end());
  const log: ServerLog = { received: [], headers: [], paths: [], closes: [], open: 0, accepted: 0 };
  const sockets = new Set<WebSocket>();
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const wssOptions = {
    noServer: true,
    autoPong: options.autoPong ?? true,
    handleProtocols: (protocols: Set<string>) => {
      if (options.protocol === false) return false;
      if (options.protocol !== undefined) return options.protocol;
      return protocols.values().next().value ?? false;
    },
  };
  const wss = new WebSocketServer({ ...wssOptions, perMessageDeflate: true });
  const plainWss = new WebSocketServer({ ...wssOptions, perMessageDeflate: false });
  for (const server of [wss, plainWss]) server.on('headers', (headers) => headers.push('X-Test-Server: qq'));
  /** `/stall` sockets waiting for resumeReading(). */
  const stalled = new Set<net.Socket>();
  const stall = (socket: net.Socket) => stalled.add(socket);
  web.on('upgrade', (req, socket, head) => {
    // Node hands an upgrade socket over without its error handler: a client that resets it
    // (one that gave up on a late or refused handshake) would be an uncaught ECONNRESET here.
    socket.on('error', () => {});
    const path = req.url ?? '/';
    const status = /^\/status\/(\d+)/.exec(path);
    if (status) {
      socket.end(`HTTP/1.1 ${status[1]} Nope\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    if (path.startsWith('/silent')) return; // never answer the handshake
    const late = /^\/late\/(\d+)(.*)$/.exec(path);
    if (late) setTimeout(() => accept(req, socket, head, late[2] as string), Number(late[1]));
    else accept(req, socket, head, path);
  });
  const accept = (req: http.IncomingMessage, socket: Duplex, head: Buffer, path: string): void => {
    (path.startsWith('/stall') ? plainWss : wss).handleUpgrade(req, socket, head, (ws) => {
      const index = log.accepted++;
      log.open++;
      log.received.push([]);
      log.headers.push(req.headers);
      log.paths.push(req.url ?? '/');
      sockets.add(ws);
      ws.on('error', () => {});
      ws.on('close', (code, reason) => {
        log.open--;
        sockets.delete(ws);
        log.closes.push({ code, reason: reason.toString('utf8') });
        for (const w of [...waiters]) {
          if (log.closes.length >= w.n) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve();
          }
        }
      });
      const after = /^\/after-message(\/.*)$/.exec(path);
      if (after) ws.once('message', () => behave(ws, after[1] as string, req, log, index, stall));
      else behave(ws, path, req, log, index, stall);
    });
  };
  const rawSockets = new Set<net.Socket>();
  web.on('connection', (s: net.Socket) => {
    rawSockets.add(s);
    s.on('close', () => rawSockets.delete(s));
  });
  web.on('secureConnection', (s: net.Socket) => {
    rawSockets.add(s);
    s.on('close', () => rawSockets.delete(s));
  });
  await new Promise<void>((resolve) => web.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (web.address() as net.AddressInfo).port;
  return {
    url: `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${port}`,
    port,
    log,
    sockets,
    broadcast: (prefix, n) => {
      for (const ws of sockets) for (let i = 0; i < n; i++) ws.send(`${prefix}${i}`);
    },
    closed: (n) =>
      log.closes.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
    dropAll: () => {
      for (const ws of sockets) ws.terminate();
    },
    resumeReading: () => {
      for (const socket of stalled) socket.resume();
      stalled.clear();
    },
    close: async () => {
      for (const s of rawSockets) s.destroy();
      wss.close();
      plainWss.close();
      await new Promise<void>((resolve) => web.close(() => resolve()));
    },
  };
}

let untrusted: Promise<string> | undefined;

/**
 * What Node says of a self-signed certificate it was not told to trust, asked of Node itself:
 * the errMsg a task gets for it. (OpenSSL's words, to which Node 24 adds advice; a later
 * version may change them again.)
 */
export function untrustedCertificateError(): Promise<string> {
  untrusted ??= (async () => {
    const server = https.createServer({ cert: OTHER_CERT, key: OTHER_KEY });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const message = await new Promise<string>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port });
      socket.once('secureConnect', () => resolve('(trusted?)'));
      socket.once('error', (error) => resolve(error.message));
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return message;
  })();
  return untrusted;
}

/** A port on 127.0.0.1 where nothing listens. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The Python peer: Debian's python3-websockets, an independent WebSocket implementation. */
export interface PythonServer {
  url: string;
  close(): Promise<void>;
}

export async function startPythonServer(): Promise<PythonServer> {
  const script = fileURLToPath(new URL('./py_server.py', import.meta.url));
  const child: ChildProcess = spawn('/usr/bin/python3', [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  // Never outlive the process that started it, even when a suite dies before its afterAll.
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`python server exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /PORT (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
  });
  return {
    url: `ws://127.0.0.1:${port}`,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
