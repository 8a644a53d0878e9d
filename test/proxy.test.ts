/**
 * createQQ({ proxy }) on Node: every connection through an HTTP proxy's CONNECT tunnel, on both
 * Node backends; wss end to end through it; what a proxy can refuse, and giving up on one.
 */
import net, { type AddressInfo } from 'node:net';
import { createQQ, type QQ, type QQOptions } from 'qq-socket-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { openTunnel } from '../src/worker/proxy-tunnel.js';
import { startProxy, type TestProxy } from './helpers/proxy.js';
import { callbacks, expectEcho, record } from './helpers/record.js';
import { closedPort, startWsServer, type TestServer, TLS_CERT } from './helpers/servers.js';

/** Whether this machine has IPv6 loopback. */
const ipv6 = await new Promise<boolean>((resolve) => {
  const probe = net.createServer();
  probe.once('error', () => resolve(false));
  probe.listen(0, '::1', () => probe.close(() => resolve(true)));
});

let plain: TestServer;
let secure: TestServer;
beforeAll(async () => {
  [plain, secure] = await Promise.all([startWsServer(), startWsServer({ tls: true })]);
});
afterAll(async () => {
  await Promise.all([plain.close(), secure.close()]);
});

const abnormal = { event: 'close', code: 1006, reason: 'abnormal closure' };

describe.each(['inline', 'thread'] as const)('proxy (%s)', (backend) => {
  const instances: QQ[] = [];
  const proxies: TestProxy[] = [];
  const make = (options: QQOptions) => {
    const qq = createQQ({ backend, ...options });
    instances.push(qq);
    return qq;
  };
  const proxy = async (options?: Parameters<typeof startProxy>[0]) => {
    const started = await startProxy(options);
    proxies.push(started);
    return started;
  };
  afterAll(async () => {
    await Promise.all(instances.map((qq) => qq.destroy()));
    await Promise.all(proxies.map((p) => p.close()));
  });

  it('tunnels ws through the proxy: text and binary echo, one CONNECT to the server', async () => {
    const via = await proxy();
    const qq = make({ proxy: via.url });
    const task = qq.connectSocket({ url: `${plain.url}/echo` });
    const rec = record(task);
    await rec.opened;
    await expectEcho(task, rec, 'through the tunnel');
    expect(via.targets).toEqual([`127.0.0.1:${plain.port}`]);
    expect(via.authorizations).toEqual(['']);
    // The connection is timed to the tunnel's end (an unset end would read as the start).
    const { connectStart = 0, connectEnd = 0 } = (rec.events[0] as { profile: Record<string, number> }).profile;
    expect(connectEnd).toBeGreaterThan(connectStart);
    task.close({ code: 1000 });
    expect((await rec.closed).at(-1)).toEqual({ event: 'close', code: 1000, reason: '' });
  });

  it('keeps wss encrypted end to end: the proxy relays no plaintext', async () => {
    const via = await proxy();
    const qq = make({ proxy: new URL(via.url), tls: { ca: TLS_CERT } });
    const task = qq.connectSocket({ url: `${secure.url}/echo` });
    const rec = record(task);
    await rec.opened;
    task.send({ data: 'a secret for the server alone' });
    expect(await rec.messages(1)).toEqual(['a secret for the server alone']);
    expect(via.targets).toEqual([`127.0.0.1:${secure.port}`]);
    const relayed = via.relayed();
    expect(relayed.length).toBeGreaterThan(0);
    expect(relayed.includes('a secret')).toBe(false);
    expect(relayed.includes('Upgrade')).toBe(false); // the handshake too
    task.close({ code: 1000 });
    await rec.closed;
  });

  it('goes around the proxy to the hosts noProxy names (ws and wss), and through it to the rest', async () => {
    const via = await proxy();
    const echoes = async (options: QQOptions, url: string) => {
      const task = make({ proxy: via.url, tls: { ca: TLS_CERT }, ...options }).connectSocket({ url: `${url}/echo` });
      const rec = record(task);
      await rec.opened;
      task.send({ data: 'direct?' });
      const [echo] = await rec.messages(1);
      task.close({ code: 1000 });
      await rec.closed;
      return echo;
    };
    // A NO_PROXY value as it comes; by address and port, by block, by name.
    expect(await echoes({ noProxy: `example.test, 127.0.0.1:${plain.port}` }, plain.url)).toBe('direct?');
    expect(await echoes({ noProxy: ['10.0.0.0/8', '127.0.0.0/8'] }, secure.url)).toBe('direct?');
    expect(await echoes({ noProxy: 'localhost' }, plain.url.replace('127.0.0.1', 'localhost'))).toBe('direct?');
    expect(via.targets).toEqual([]);
    // Another port, another block, a name that is not the address: through the proxy.
    expect(await echoes({ noProxy: `127.0.0.1:${plain.port === 65535 ? 1 : plain.port + 1}` }, plain.url)).toBe(
      'direct?',
    );
    expect(await echoes({ noProxy: '::1, 10.0.0.0/8' }, secure.url)).toBe('direct?');
    expect(await echoes({ noProxy: 'localhost' }, plain.url)).toBe('direct?');
    expect(via.targets).toEqual([`127.0.0.1:${plain.port}`, `127.0.0.1:${secure.port}`, `127.0.0.1:${plain.port}`]);
  });

  it('sends the URL credentials, decoded, as Proxy-Authorization; without them the 407 is the errMsg', async () => {
    const credentials = 'us:er:p@ss wörd';
    const via = await proxy({ credentials });
    const good = make({ proxy: `http://us%3Aer:p%40ss%20w%C3%B6rd@127.0.0.1:${via.port}/` });
    const task = good.connectSocket({ url: `${plain.url}/echo` });
    const rec = record(task);
    await rec.opened;
    expect(via.authorizations).toEqual([`Basic ${Buffer.from('us:er:p@ss wörd').toString('base64')}`]);
    task.close({ code: 1000 });
    await rec.closed;

    for (const url of [via.url, `http://us:wrong@127.0.0.1:${via.port}`]) {
      const cb = callbacks();
      const refused = make({ proxy: url }).connectSocket({ url: `${plain.url}/echo`, ...cb });
      const events = await record(refused).closed;
      expect(events).toEqual([
        {
          event: 'error',
          errMsg: `proxy 127.0.0.1:${via.port} refused the tunnel to 127.0.0.1:${plain.port}: 407 Proxy Authentication Required`,
        },
        abnormal,
      ]);
      expect(JSON.stringify(events)).not.toContain('wrong');
      expect(cb.calls.map((c) => c.kind)).toEqual(['success', 'complete']);
    }
  });

  it('reports a proxy that cannot be reached, cannot reach the server, or does not speak HTTP', async () => {
    /** What a task through `proxyUrl` to `url` reports: onError with this errMsg, then 1006. */
    const failsWith = async (proxyUrl: string, url: string, errMsg: string) => {
      const task = make({ proxy: proxyUrl }).connectSocket({ url });
      expect(await record(task).closed).toEqual([{ event: 'error', errMsg }, abnormal]);
    };
    const echo = `${plain.url}/echo`;
    const port = await closedPort();
    await failsWith(
      `http://127.0.0.1:${port}`,
      echo,
      `proxy 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    const via = await proxy();
    await failsWith(
      via.url,
      `ws://127.0.0.1:${port}/`,
      `proxy 127.0.0.1:${via.port} refused the tunnel to 127.0.0.1:${port}: 502 Bad Gateway`,
    );
    const garbage = await proxy({ mode: 'garbage' });
    await failsWith(
      garbage.url,
      echo,
      `proxy 127.0.0.1:${garbage.port} sent an invalid answer to CONNECT 127.0.0.1:${plain.port}`,
    );
    const hangup = await proxy({ mode: 'hangup' });
    await failsWith(
      hangup.url,
      echo,
      `proxy 127.0.0.1:${hangup.port} closed the connection before answering CONNECT 127.0.0.1:${plain.port}`,
    );
  });

  it('gives up on a proxy that never answers: the timeout, or a close, ends its connection', async () => {
    const silent = await proxy({ mode: 'silent' });
    const qq = make({ proxy: silent.url });
    const timed = qq.connectSocket({ url: `${plain.url}/echo`, timeout: 300 });
    expect(await record(timed).closed).toEqual([{ event: 'error', errMsg: 'connectSocket:fail timeout' }, abnormal]);
    await silent.drained();

    const closing = qq.connectSocket({ url: `${plain.url}/echo` });
    const rec = record(closing);
    while (silent.targets.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(silent.open()).toBe(1);
    closing.close({ code: 1000 });
    await rec.closed;
    await silent.drained();
    expect(silent.targets).toEqual([`127.0.0.1:${plain.port}`, `127.0.0.1:${plain.port}`]);
  });

  it.runIf(ipv6)('asks for an IPv6 server in brackets, and reaches a proxy on ::1', async () => {
    const server = new WebSocketServer({ host: '::1', port: 0 });
    server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const via = await proxy();
      const task = make({ proxy: via.url }).connectSocket({ url: `ws://[::1]:${port}/` });
      const rec = record(task);
      task.onOpen(() => task.send({ data: 'v6' }));
      expect(await rec.messages(1)).toEqual(['v6']);
      expect(via.targets).toEqual([`[::1]:${port}`]);
      task.close({ code: 1000 });
      await rec.closed;
      const down = await closedPort();
      const refused = make({ proxy: `http://[::1]:${down}` }).connectSocket({ url: `ws://[::1]:${port}/` });
      expect(await record(refused).closed).toEqual([
        { event: 'error', errMsg: `proxy [::1]:${down}: connect ECONNREFUSED ::1:${down}` },
        abnormal,
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('connects directly with an empty proxy (as an empty HTTPS_PROXY means)', async () => {
    const accepted = plain.log.accepted;
    const task = make({ proxy: '' }).connectSocket({ url: `${plain.url}/echo` });
    const rec = record(task);
    await rec.opened;
    expect(plain.log.accepted).toBe(accepted + 1);
    await expectEcho(task, rec, 'no proxy between us');
    task.close({ code: 1000 });
    expect((await rec.closed).at(-1)).toEqual({ event: 'close', code: 1000, reason: '' });
  });
});

describe('proxy option', () => {
  it('refuses anything but an http: URL, without repeating it', () => {
    const refusal = new TypeError('createQQ: options.proxy must be an http: URL (http://[user:password@]host[:port])');
    for (const proxy of [
      42,
      {},
      'not a url',
      'socks5://127.0.0.1:1080',
      'https://127.0.0.1:3128',
      'http://a%zz:pw@h',
    ]) {
      expect(() => createQQ({ backend: 'inline', proxy: proxy as never })).toThrow(refusal);
    }
  });
});

describe('openTunnel (the host side of a CONNECT)', () => {
  /** A proxy that answers each CONNECT with `answer`, written in pieces of `piece` bytes. */
  async function answering(answer: Buffer, piece = answer.length) {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', async () => {
        for (let at = 0; at < answer.length; at += piece) {
          socket.write(answer.subarray(at, at + piece));
          await new Promise((resolve) => setImmediate(resolve));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as AddressInfo).port, close: () => server.close() };
  }
  const tunnel = (port: number) =>
    new Promise<{ error?: Error; socket: net.Socket }>((resolve) => {
      openTunnel({ host: '127.0.0.1', port }, 'example.test', 443, (error, socket) => resolve({ error, socket }));
    });

  /** The bytes `socket` gives from now on, until `n` arrived. */
  const read = (socket: net.Socket, n: number) =>
    new Promise<string>((resolve) => {
      let got = '';
      socket.on('data', (chunk: Buffer) => {
        got += chunk.toString();
        if (got.length >= n) resolve(got);
      });
    });

  it('hands over the bytes that came with the answer, whole or cut into single bytes', async () => {
    const answer = Buffer.from('HTTP/1.0 200 OK\r\nVia: test\r\n\r\nearly bytes');
    for (const piece of [answer.length, 1]) {
      const proxy = await answering(answer, piece);
      const { error, socket } = await tunnel(proxy.port);
      expect(error).toBeUndefined();
      expect(await read(socket, 11)).toBe('early bytes');
      socket.destroy();
      proxy.close();
    }
  });

  it('refuses an answer whose head never ends', async () => {
    const endless = await answering(Buffer.from(`HTTP/1.1 200 OK\r\n${'X-Pad: 0123456789abcdef\r\n'.repeat(1000)}`));
    const { error, socket } = await tunnel(endless.port);
    expect(error?.message).toBe(`proxy 127.0.0.1:${endless.port} sent an answer to CONNECT over 16 KiB`);
    expect(socket.destroyed).toBe(true);
    endless.close();
  });
});
