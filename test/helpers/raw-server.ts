/**
 * A hostile WebSocket server on 127.0.0.1, written on raw TCP so it can break every rule: it
 * reads the upgrade request and hands the socket to a script chosen by the request path.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';

export const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const acceptFor = (key: string) =>
  createHash('sha1')
    .update(key + GUID)
    .digest('base64');

/** A correct 101 answer to `headers`, plus extra header lines. */
export function switching(headers: Record<string, string>, extra: string[] = []): string {
  return [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${acceptFor(headers['sec-websocket-key'] ?? '')}`,
    ...extra,
    '',
    '',
  ].join('\r\n');
}

/** A frame as a server writes it (RFC 6455 5.2): FIN set and unmasked unless told otherwise. */
export function frame(
  opcode: number,
  payload: Buffer | string = Buffer.alloc(0),
  { fin = true, rsv = 0, mask = false }: { fin?: boolean; rsv?: number; mask?: boolean } = {},
): Buffer {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const n = data.length;
  const lengthBytes = n < 126 ? 0 : n < 65_536 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + (mask ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  head[1] = (mask ? 0x80 : 0) | (n < 126 ? n : n < 65_536 ? 126 : 127);
  if (lengthBytes === 2) head.writeUInt16BE(n, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(n), 2);
  if (!mask) return Buffer.concat([head, data]);
  const key = Buffer.from([1, 2, 3, 4]);
  head.set(key, 2 + lengthBytes);
  return Buffer.concat([head, data.map((b, i) => b ^ (key[i % 4] as number))]);
}

/** What the script gets: the socket after the request, the request's path and headers. */
export type Script = (socket: net.Socket, path: string, headers: Record<string, string>) => void;

export interface RawServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startRawServer(script: Script, host = '127.0.0.1'): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const [requestLine = '', ...lines] = head.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      script(socket, requestLine.split(' ')[1] ?? '/', headers);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
