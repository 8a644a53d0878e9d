/**
 * Security defaults (issue 5): TLS verified unless told otherwise, allowedHosts/requireSecure
 * that no spelling of a url gets around, nothing from the network evaluated, and no header value
 * (tokens) in any errMsg or close reason.
 */
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { createQQ, type QQ } from 'qq-socket-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { startRawServer } from './helpers/raw-server.js';
import { callbacks, record } from './helpers/record.js';
import { closedPort, startWsServer, type TestServer, TLS_CERT, untrustedCertificateError } from './helpers/servers.js';

const SECRET = 'sk-live-7f3a9c2e11b04d8e';

/** Whether this machine has IPv6 loopback. */
async function hasIpv6(): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}

let plain: TestServer;
let tls: TestServer;
const instances: QQ[] = [];
const make = (options: Parameters<typeof createQQ>[0]) => {
  const qq = createQQ({ backend: 'inline', ...options });
  instances.push(qq);
  return qq;
};
beforeAll(async () => {
  [plain, tls] = await Promise.all([startWsServer(), startWsServer({ tls: true })]);
});
afterAll(async () => {
  await Promise.all(instances.map((qq) => qq.destroy()));
  await Promise.all([plain.close(), tls.close()]);
});

/**
 * What connectSocket says of `url`, without any network traffic: the instance's only slot is
 * held by a pending handshake on loopback, so a url that passes every check fails on the limit
 * (reported here as 'connectSocket:ok') and is never connected, never even looked up.
 */
async function attempt(qq: QQ, url: string): Promise<string> {
  const cb = callbacks();
  qq.connectSocket({ url, ...cb });
  await cb.done;
  const result = cb.calls[0]?.result.errMsg as string;
  return result === 'connectSocket:fail exceed max concurrent count 1' ? 'connectSocket:ok' : result;
}

/** An instance whose one connection slot is taken (see {@link attempt}). */
function checker(options: Parameters<typeof createQQ>[0]): QQ {
  const qq = make({ ...options, maxConnections: 1, allowedHosts: [...(options?.allowedHosts ?? []), '127.0.0.1'] });
  qq.connectSocket({ url: `${plain.url}/silent` });
  return qq;
}

describe('allowedHosts and requireSecure', () => {
  it('match the host the connection really goes to, whatever the spelling', async () => {
    const qq = checker({ allowedHosts: ['allowed.test', '*.cdn.allowed.test'] });
    const denied = 'connectSocket:fail url not in domain list';
    const cases: Array<[string, string]> = [
      ['wss://allowed.test@evil.test/', denied], // userinfo is not the host
      ['wss://evil.test#@allowed.test/', 'connectSocket:fail invalid url "wss://evil.test#@allowed.test/"'],
      ['wss://evil.test\\@allowed.test/', denied],
      ['wss://evil.test/?allowed.test', denied],
      ['wss://allowed.test.evil.test/', denied],
      ['wss://evilallowed.test/', denied],
      ['wss://cdn.allowed.test/', denied], // *.suffix does not match the suffix itself
      ['wss://[::1]/', denied],
      ['wss://[::ffff:127.0.0.1]/', denied],
      ['wss://2130706433/', 'connectSocket:ok'], // the URL parser makes this 127.0.0.1: listed, and it is
      ['wss://0x7f.0.0.1/', 'connectSocket:ok'],
      ['wss://127.1/', 'connectSocket:ok'],
      ['wss://ALLOWED.TEST/', 'connectSocket:ok'],
      ['wss://allowed.test./', 'connectSocket:ok'],
      ['wss://a.b.CDN.allowed.test/', 'connectSocket:ok'],
      ['wss://user:pw@allowed.test/', 'connectSocket:ok'],
    ];
    const got = [];
    for (const [url] of cases) got.push([url, await attempt(qq, url)]);
    expect(got).toEqual(cases);
  });

  it('accept IPv6 literals only when listed, in any notation', async () => {
    if (!(await hasIpv6())) return; // no ::1 on this machine: the bracket cases above still ran
    const wss = new WebSocketServer({ host: '::1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    const { port } = wss.address() as net.AddressInfo;
    try {
      const v6 = make({ allowedHosts: ['::1'] });
      const bracketed = make({ allowedHosts: ['[::1]'] });
      for (const qq of [v6, bracketed]) {
        for (const url of [`ws://[::1]:${port}/`, `ws://[0:0:0:0:0:0:0:1]:${port}/`]) {
          const task = qq.connectSocket({ url });
          const rec = record(task);
          await rec.opened;
          task.close();
          await rec.closed;
        }
      }
      for (const listed of ['::1', '[::1]']) {
        const qq = make({ allowedHosts: [listed], maxConnections: 1 });
        qq.connectSocket({ url: `ws://[::1]:${port}/` }); // holds the slot
        expect(await attempt(qq, `ws://127.0.0.1:${port}/`)).toBe('connectSocket:fail url not in domain list');
      }
    } finally {
      wss.close();
    }
  });

  it('requireSecure refuses ws:// in any case, and wss:// still verifies the certificate', async () => {
    const qq = make({ requireSecure: true });
    const check = checker({ requireSecure: true });
    for (const url of ['ws://127.0.0.1/', 'WS://127.0.0.1/', 'Ws://127.0.0.1/']) {
      expect(await attempt(check, url)).toBe(`connectSocket:fail invalid url "${url}"`);
    }
    expect(await attempt(check, 'WSS://127.0.0.1/')).toBe('connectSocket:ok');
    const task = qq.connectSocket({ url: `${tls.url}/echo` });
    expect(await record(task).closed).toEqual([
      { event: 'error', errMsg: await untrustedCertificateError() },
      { event: 'close', code: 1006, reason: 'abnormal closure' },
    ]);
  });

  it('TLS verification stays on with a ca given, and is off only when asked', async () => {
    const untrusted = await startWsServer({ tls: 'untrusted' });
    try {
      // The ca adds a certificate to trust; every other one is still refused.
      const trusting = make({ tls: { ca: TLS_CERT } });
      const trusted = trusting.connectSocket({ url: `${tls.url}/echo` });
      const rec = record(trusted);
      await rec.opened;
      trusted.send({ data: 'verified' });
      expect(await rec.messages(1)).toEqual(['verified']);
      expect(await record(trusting.connectSocket({ url: `${untrusted.url}/echo` })).closed).toEqual([
        { event: 'error', errMsg: await untrustedCertificateError() },
        { event: 'close', code: 1006, reason: 'abnormal closure' },
      ]);
      // Only rejectUnauthorized: false takes a certificate nobody vouches for.
      const insecure = make({ tls: { rejectUnauthorized: false } });
      const anyCert = insecure.connectSocket({ url: `${untrusted.url}/echo` });
      const anyRec = record(anyCert);
      await anyRec.opened;
      anyCert.send({ data: 'unverified' });
      expect(await anyRec.messages(1)).toEqual(['unverified']);
      expect(untrusted.log.accepted).toBe(1);
    } finally {
      await untrusted.close();
    }
  });
});

describe('nothing leaks, nothing runs', () => {
  it('never puts a header value into an errMsg or close reason, whatever fails', async () => {
    const qq = make({ connectTimeout: 200, maxConnections: 10 });
    const raw = await startRawServer((socket) => socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n'));
    try {
      const header = { authorization: `Bearer ${SECRET}`, 'x-token': SECRET };
      const urls = [
        `${raw.url}/`, // 401
        `ws://127.0.0.1:${await closedPort()}/`, // refused
        `${plain.url}/silent`, // timeout
        `${tls.url}/echo`, // TLS failure
        `${plain.url}/drop`, // drop
      ];
      const all: string[] = [];
      for (const url of urls) {
        const events = await record(qq.connectSocket({ url, header })).closed;
        all.push(JSON.stringify(events));
      }
      const cb = callbacks();
      make({}).connectSocket({ url: `${plain.url}/`, header: { 'x-token': `${SECRET}\r\nX-Evil: 1` }, ...cb });
      await cb.done;
      all.push(JSON.stringify(cb.calls));
      expect(JSON.stringify(cb.calls)).toContain('connectSocket:fail invalid header x-token');
      for (const text of all) expect(text).not.toContain(SECRET);
    } finally {
      await raw.close();
    }
  });

  it('ships no eval: nothing from the network can ever be evaluated', () => {
    const dist = fileURLToPath(new URL('../dist/', import.meta.url));
    const files = readdirSync(dist).filter((f) => /\.(c?js)$/.test(f));
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) {
      const code = readFileSync(`${dist}${file}`, 'utf8');
      expect(code, file).not.toMatch(/\beval\s*\(|new\s+Function\s*\(|\bFunction\s*\(\s*['"`]/);
    }
  });
});
