/**
 * A tunnel through an HTTP proxy (CONNECT, RFC 9110 §9.3.6), for createQQ's `proxy` on Node: ws
 * has no proxy support of its own, and the usual way, an http.Agent, cannot cross into the
 * host's thread. Over the tunnel, wss is TLS with the server itself, end to end.
 */
import net from 'node:net';
import type { ProxyConfig } from '../shared/protocol.js';

/** The most a proxy's answer to CONNECT may take before its blank line. */
const MAX_HEAD_BYTES = 16 * 1024;

/** host:port as CONNECT and Host name it (an IPv6 address in brackets). */
export const authority = (host: string, port: number | string): string =>
  net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;

/**
 * Connects to the proxy and asks it for a tunnel to `host:port`; `done` gets the socket once the
 * proxy answered 2xx, or why not (the socket is then destroyed). Returns the socket to the proxy
 * at once: destroying it gives up (`done` is then called with an error).
 */
export function openTunnel(
  proxy: ProxyConfig,
  host: string,
  port: number | string,
  done: (error: Error | undefined, socket: net.Socket) => void,
): net.Socket {
  const target = authority(host, port);
  const where = `proxy ${authority(proxy.host, proxy.port)}`;
  const socket = net.connect({ host: proxy.host, port: proxy.port });
  let head = Buffer.alloc(0);
  let settled = false;
  const settle = (error?: Error) => {
    if (settled) return;
    settled = true;
    socket.off('readable', onReadable);
    socket.off('error', onError);
    socket.off('close', onClose);
    if (error !== undefined) socket.destroy();
    done(error, socket);
  };
  const onError = (error: Error) => settle(new Error(`${where}: ${error.message}`));
  const onClose = () => settle(new Error(`${where} closed the connection before answering CONNECT ${target}`));
  // 'readable' rather than 'data': the bytes after the answer's head (the server's, should a
  // proxy pass them on early) stay in the socket for whoever reads it next.
  function onReadable() {
    for (let chunk: Buffer | null = socket.read(); chunk !== null; chunk = socket.read()) {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > MAX_HEAD_BYTES) settle(new Error(`${where} sent an answer to CONNECT over 16 KiB`));
        continue;
      }
      const status = /^HTTP\/1\.[01] (\d{3}) ?([^\r\n]*)/.exec(head.subarray(0, end).toString('latin1'));
      if (status === null) return settle(new Error(`${where} sent an invalid answer to CONNECT ${target}`));
      const code = Number(status[1]);
      if (code < 200 || code > 299) {
        return settle(new Error(`${where} refused the tunnel to ${target}: ${code} ${status[2]}`.trimEnd()));
      }
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      return settle();
    }
  }
  socket.once('connect', () => {
    const authorization =
      proxy.credentials === undefined
        ? ''
        : `Proxy-Authorization: Basic ${Buffer.from(proxy.credentials).toString('base64')}\r\n`;
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${authorization}\r\n`);
  });
  socket.on('readable', onReadable);
  socket.on('error', onError);
  socket.on('close', onClose);
  return socket;
}
