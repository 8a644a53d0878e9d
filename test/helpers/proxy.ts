/** An HTTP proxy on 127.0.0.1 that tunnels by CONNECT (as squid or a corporate proxy does). */
import http from 'node:http';
import net from 'node:net';

export interface TestProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The CONNECT targets asked for, in order. */
  targets: string[];
  /** The Proxy-Authorization header of each CONNECT ('' when none). */
  authorizations: string[];
  /** Every byte the proxy relayed from its clients to the servers. */
  relayed(): Buffer;
  /** Connections from clients currently open. */
  open(): number;
  /** Resolves once no client connection is open. */
  drained(): Promise<void>;
  close(): Promise<void>;
}

/**
 * How the proxy answers CONNECT: `tunnel` (200, then relays; 502 when the target refuses),
 * `silent` (never answers), `garbage` (a line that is not HTTP), `hangup` (closes at once).
 * With `credentials` ('user:password'), a CONNECT without them gets 407.
 */
export async function startProxy(
  options: { mode?: 'tunnel' | 'silent' | 'garbage' | 'hangup'; credentials?: string } = {},
): Promise<TestProxy> {
  const { mode = 'tunnel', credentials } = options;
  const targets: string[] = [];
  const authorizations: string[] = [];
  const relayed: Buffer[] = [];
  const clients = new Set<net.Socket>();
  let onDrained: (() => void) | undefined;
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connection', (socket: net.Socket) => {
    clients.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      clients.delete(socket);
      if (clients.size === 0) onDrained?.();
    });
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    targets.push(req.url ?? '');
    authorizations.push(req.headers['proxy-authorization'] ?? '');
    // An http.Server's sockets are half-open: a client's end must be read, then answered.
    client.on('end', () => client.end());
    if (mode === 'silent') return void client.resume();
    if (mode === 'hangup') return void client.destroy();
    if (mode === 'garbage') return void client.write('SSH-2.0-OpenSSH_9.2\r\n\r\n');
    const expected = credentials === undefined ? undefined : `Basic ${Buffer.from(credentials).toString('base64')}`;
    if (expected !== undefined && req.headers['proxy-authorization'] !== expected) {
      return void client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
      );
    }
    const { hostname, port } = new URL(`http://${req.url}`);
    const upstream = net.connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
    upstream.on('error', () => {
      if (client.writable) client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
    });
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      client.on('data', (chunk: Buffer) => relayed.push(Buffer.from(chunk)));
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    targets,
    authorizations,
    relayed: () => Buffer.concat(relayed),
    open: () => clients.size,
    drained: () =>
      clients.size === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            onDrained = resolve;
          }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of clients) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
