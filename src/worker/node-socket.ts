/** The Node socket adapter: a {@link SocketFactory} over `ws`. */
import net from 'node:net';
import type { Writable } from 'node:stream';
import tls from 'node:tls';
import WebSocket from 'ws';
import { PING_FLOOD } from '../shared/errors.js';
import { bypassesProxy } from '../shared/no-proxy.js';
import { clock } from '../shared/timers.js';
import { type FrameReader, readInFront, textOf } from './frame-reader.js';
import { FrameWriter } from './frame-writer.js';
import { layered } from './layers.js';
import { openTunnel } from './proxy-tunnel.js';
import type { HostSocket, SocketFactory } from './socket.js';

/**
 * The close code ws put in its own close frame when it failed the connection because of what the
 * server sent (1002, 1007, 1009). ws keeps it under an unexported symbol described 'status-code'.
 */
function statusCodeOf(error: Error): number | undefined {
  const symbol = Object.getOwnPropertySymbols(error).find((s) => s.description === 'status-code');
  const code = symbol === undefined ? undefined : (error as unknown as Record<symbol, unknown>)[symbol];
  return typeof code === 'number' ? code : undefined;
}

function headerRecord(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

type ConnectOptions = net.NetConnectOpts & tls.ConnectionOptions & { socketPath?: string; port?: number | string };

/** TLS options for the server itself: ws's, with SNI by host name (never for an IP address). */
function tlsOptions(options: ConnectOptions): tls.ConnectionOptions {
  const out = { ...options, path: undefined } as tls.ConnectionOptions;
  if (!out.servername && out.servername !== '') out.servername = net.isIP(out.host ?? '') ? '' : out.host;
  return out;
}

/** The HTTP status of a handshake the server refused, from ws's words for it. */
const refusedStatus = (message: string): number | undefined => {
  const status = /^Unexpected server response: (\d{3})$/.exec(message)?.[1];
  return status === undefined ? undefined : Number(status);
};

/** One socket over ws; {@link nodeSocketFactory} adds the layers a task's options ask for (layers.ts). */
const wsSocket: SocketFactory = (frame, config, handlers) => {
  const secure = frame.url.slice(0, 4).toLowerCase() === 'wss:';
  let raw: net.Socket | undefined;
  /** The TCP socket under `raw` (itself, or a proxy tunnel under TLS): where TCP_NODELAY goes. */
  let tcp: net.Socket | undefined;
  /** The connection to the proxy until it gave the tunnel: closing a CONNECTING task ends it. */
  let tunnel: net.Socket | undefined;
  let connectEnd = 0;
  let socketError: string | undefined;
  let header: Record<string, string> = {};
  let reader: FrameReader | undefined;
  let writer: FrameWriter | undefined;

  const ws = new WebSocket(frame.url, frame.protocols, {
    headers: frame.headers,
    perMessageDeflate: frame.perMessageDeflate,
    maxPayload: config.maxPayload,
    followRedirects: false,
    ...config.tls,
    // Our own connect, as ws's netConnect/tlsConnect, to time the TCP/TLS setup and to see
    // socket errors that ws swallows after open (a reset reaches onError as `read ECONNRESET`).
    // Through a proxy the socket comes later, by Node's callback (ws passes it on).
    createConnection: (
      options: ConnectOptions,
      created: (error: Error | null, socket?: net.Socket) => void,
    ): net.Socket | undefined => {
      /** Watches the socket ws will use; `under` is its TCP socket, `connected` a tunnel's. */
      const take = (socket: net.Socket, under = socket, connected = false) => {
        if (connected) connectEnd = clock();
        else {
          socket.once(secure ? 'secureConnect' : 'connect', () => {
            connectEnd = clock();
          });
        }
        socket.on('error', (error) => {
          socketError ??= error.message;
        });
        raw = socket;
        tcp = under;
        return socket;
      };
      const { proxy } = config;
      const host = options.host ?? 'localhost';
      const port = Number(options.port ?? (secure ? 443 : 80));
      if (proxy === undefined || bypassesProxy(proxy.bypass, host, port)) {
        if (secure) return take(tls.connect(tlsOptions(options)));
        return take(net.connect({ ...options, path: options.socketPath } as net.NetConnectOpts));
      }
      tunnel = openTunnel(proxy, host, port, (error, socket) => {
        if (tunnel === undefined) return void socket.destroy(); // the task gave up meanwhile
        tunnel = undefined;
        if (error !== undefined) return created(error);
        if (secure) return created(null, take(tls.connect({ ...tlsOptions(options), socket }), socket));
        created(null, take(socket, socket, true));
      });
      return undefined;
    },
  } as unknown as WebSocket.ClientOptions);

  ws.on('upgrade', (response) => {
    header = headerRecord(response.headers);
  });
  ws.on('open', () => {
    tcp?.setNoDelay(frame.tcpNoDelay);
    // Not with permessage-deflate: ws inflates asynchronously, and the reader would overtake it.
    // ws keeps its receiver in `_receiver`; with another ws version, ws reads everything as before.
    const receiver = (ws as unknown as { _receiver?: Writable })._receiver;
    if (ws.extensions === '' && receiver !== undefined) {
      reader = readInFront(receiver, config.maxPayload, (data) => handlers.message(data));
    }
    // The same for sends (frame-writer.ts); with an extension, ws frames them.
    if (ws.extensions === '' && raw !== undefined) writer = new FrameWriter(raw);
    handlers.open(header, ws.protocol, connectEnd);
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    // A Buffer may be a view of a pooled or shared chunk: the outbox copies it, or moves its
    // ArrayBuffer only when the Buffer spans all of it (never the case for pool slices).
    handlers.message(isBinary ? data : textOf(data));
  });
  ws.on('ping', () => {
    // ws answers pings itself, and drops the connection (without an event) when too many
    // pongs are pending; the ping that tripped the guard is emitted after it did.
    if (ws.readyState !== WebSocket.OPEN) socketError ??= PING_FLOOD;
    else handlers.pong?.();
  });
  ws.on('pong', () => handlers.pong?.());
  ws.on('error', (error: Error) => {
    handlers.error(error.message, statusCodeOf(error), refusedStatus(error.message));
  });
  ws.on('close', (code: number, reason: Buffer) => {
    if (code === 1006 && socketError !== undefined) handlers.error(socketError);
    handlers.close(code, reason.toString('utf8'));
  });

  const giveUpTunnel = () => {
    tunnel?.destroy();
    tunnel = undefined;
  };

  const socket: HostSocket = {
    send(data, done) {
      if (writer !== undefined && ws.readyState === WebSocket.OPEN) {
        writer.add(data, done);
        return;
      }
      try {
        ws.send(data, { binary: typeof data !== 'string' }, done);
      } catch (error) {
        done(error as Error);
      }
    },
    close(code, reason) {
      writer?.flush(); // the frames sent before the close go first
      giveUpTunnel();
      ws.close(code, reason);
    },
    abort() {
      writer?.flush();
      giveUpTunnel();
      ws.terminate();
    },
    pause() {
      ws.pause();
    },
    resume() {
      ws.resume();
    },
    get framesTaken() {
      return reader?.taken ?? 0;
    },
    ping() {
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    },
  };
  return socket;
};

/** The Node socket adapter, with the layers a task's options ask for (layers.ts). */
export const nodeSocketFactory: SocketFactory = layered(wsSocket);
