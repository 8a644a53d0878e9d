/**
 * Node specifics of issue 2: host death, nothing left behind by destroy(), the package's entry
 * points (import, require, /global), and createQQ's option checks.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createQQ, type QQ } from 'qq-socket-worker';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { record } from './helpers/record.js';
import { startWsServer, type TestServer } from './helpers/servers.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

interface Debug {
  stats(): Promise<Record<string, number>> | undefined;
  crash(how: 'throw' | 'exit' | 'oom'): void;
  threads(): number;
}
const debug = (qq: QQ) => (qq as unknown as Record<symbol, Debug>)[Symbol.for('qq-socket-worker.debug')] as Debug;

/**
 * Runs a script in a fresh Node process from the package root (with `preload` required first, in
 * every thread); resolves with its output once it exits.
 */
async function node(
  flag: '--input-type=module' | '--input-type=commonjs',
  code: string,
  { timeout = 50_000, preload, flags = [] }: { timeout?: number; preload?: string; flags?: string[] } = {},
) {
  const args = [...flags, ...(preload === undefined ? [] : ['-r', preload]), flag, '-e', code];
  // A child that does not exit by itself is killed at `timeout`, and this rejects.
  const { stdout } = await run(process.execPath, args, { cwd: root, timeout });
  return { stdout };
}

let server: TestServer;
beforeAll(async () => {
  server = await startWsServer();
});
afterAll(async () => {
  await server.close();
});

describe('host death (thread)', () => {
  it.each(['throw', 'exit', 'oom'] as const)(
    'turns a host that dies by %s into onError + onClose(1006) on each task, then starts a fresh host',
    async (how) => {
      const qq = createQQ({ backend: 'thread' });
      const bystander = createQQ({ backend: 'inline' });
      try {
        const tasks = [1, 2, 3].map(() => qq.connectSocket({ url: `${server.url}/echo` }));
        const recs = tasks.map(record);
        await Promise.all(recs.map((r) => r.opened));
        const other = record(bystander.connectSocket({ url: `${server.url}/echo` }));
        await other.opened;
        debug(qq).crash(how);
        for (const rec of recs) {
          const events = await rec.closed;
          expect(events.map((e) => e.event)).toEqual(['open', 'error', 'close']);
          expect((events[1] as { errMsg: string }).errMsg).toMatch(/^socket host died: /);
          expect(events[2]).toEqual({ event: 'close', code: 1006, reason: 'abnormal closure' });
        }
        expect(tasks.map((t) => t.readyState)).toEqual([3, 3, 3]);
        // The slots were freed and a fresh host serves the next connectSocket.
        const next = qq.connectSocket({ url: `${server.url}/echo` });
        const rec = record(next);
        await rec.opened;
        next.send({ data: 'after' });
        expect(await rec.messages(1)).toEqual(['after']);
        await expect(qq.sendSocketMessage({ data: 'global' })).resolves.toEqual({ errMsg: 'sendSocketMessage:ok' });
        expect(other.names()).toEqual(['open']); // another instance was not touched
      } finally {
        await Promise.all([qq.destroy(), bystander.destroy()]);
      }
    },
  );
});

describe('leaving nothing behind', () => {
  it('destroy() with open sockets lets the process exit by itself', async () => {
    const { stdout } = await node(
      '--input-type=module',
      `
      import { WebSocketServer } from 'ws';
      import { createQQ } from 'qq-socket-worker';
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      await new Promise((r) => wss.once('listening', r));
      const url = 'ws://127.0.0.1:' + wss.address().port;
      const qq = createQQ({ threads: 2 });
      const tasks = [1, 2, 3].map(() => qq.connectSocket({ url }));
      await Promise.all(tasks.map((t) => new Promise((r) => t.onOpen(r))));
      const closes = tasks.map((t) => new Promise((r) => t.onClose(r)));
      await qq.destroy();
      console.log(JSON.stringify(await Promise.all(closes)));
      wss.close();
      `,
    );
    expect(JSON.parse(stdout)).toEqual(Array(3).fill({ code: 1001, reason: 'qq instance destroyed' }));
  });

  it('a program that never calls destroy() still exits once its sockets are closed', async () => {
    const { stdout } = await node(
      '--input-type=module',
      `
      import { WebSocketServer } from 'ws';
      import 'qq-socket-worker/global';
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      await new Promise((r) => wss.once('listening', r));
      qq.connectSocket({ url: 'ws://127.0.0.1:' + wss.address().port });
      qq.onSocketOpen(() => qq.closeSocket());
      qq.onSocketClose((r) => { console.log(JSON.stringify(r)); wss.close(); });
      `,
    );
    expect(JSON.parse(stdout)).toEqual({ code: 1000, reason: '' });
  });

  it('keeps no thread after 200 connect/close cycles and destroy()', async () => {
    const qq = createQQ({ backend: 'thread' });
    for (let i = 0; i < 200; i++) {
      const task = qq.connectSocket({ url: `${server.url}/echo` });
      const rec = record(task);
      await rec.opened;
      task.close();
      await rec.closed;
    }
    expect(await debug(qq).stats()).toMatchObject({ sockets: 0, inFlightItems: 0 });
    expect(debug(qq).threads()).toBe(1);
    await qq.destroy();
    expect(debug(qq).threads()).toBe(0);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'MessagePort')).toEqual([]);
  });
});

describe('workerUrl (a bundled app that moved node-thread.js)', () => {
  it('runs the host from the script it names: a path, a relative path or a file: URL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qq-thread-'));
    try {
      await symlink(join(root, 'node_modules'), join(dir, 'node_modules')); // ws, as the app has it
      const script = join(dir, 'node-thread.js');
      // The copy notes each time a thread loads it.
      const mark =
        "\nimport { appendFileSync as mark } from 'node:fs';\nmark(new URL('./loads', import.meta.url), 'x');\n";
      await writeFile(script, (await readFile(join(root, 'dist', 'node-thread.js'), 'utf8')) + mark);
      const echoes = [];
      for (const workerUrl of [script, relative(process.cwd(), script), pathToFileURL(script)]) {
        const qq = createQQ({ backend: 'thread', workerUrl });
        const task = qq.connectSocket({ url: `${server.url}/echo` });
        const rec = record(task);
        await rec.opened;
        task.send({ data: String(workerUrl) });
        echoes.push(...(await rec.messages(1)));
        await qq.destroy(); // ends the pool: the next instance loads the script again
      }
      expect(echoes).toEqual([script, relative(process.cwd(), script), pathToFileURL(script).href]);
      expect(await readFile(join(dir, 'loads'), 'utf8')).toBe('xxx');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a script that is not there as the host dying: error, then close 1006', async () => {
    const missing = join(tmpdir(), 'qq-nowhere', 'node-thread.js');
    const qq = createQQ({ backend: 'thread', workerUrl: missing });
    try {
      const events = await record(qq.connectSocket({ url: `${server.url}/echo` })).closed;
      expect(events).toEqual([
        {
          event: 'error',
          errMsg: `socket host died: the worker script ${pathToFileURL(missing).href} failed to load: no such file`,
        },
        { event: 'close', code: 1006, reason: 'abnormal closure' },
      ]);
    } finally {
      await qq.destroy();
    }
  });
});

/** The permission model's flag: `--permission` from Node 22 on (Node 24 knows no other). */
const PERMISSION = process.allowedNodeEnvironmentFlags.has('--permission')
  ? '--permission'
  : '--experimental-permission';

describe("Node's permission model", () => {
  it('turns threads refused into the host dying with what to do, and inline still runs', async () => {
    const { stdout } = await node(
      '--input-type=module',
      `
      import { WebSocketServer } from 'ws';
      import { createQQ } from 'qq-socket-worker';
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      await new Promise((r) => wss.once('listening', r));
      wss.on('connection', (ws) => ws.on('message', (data) => ws.send(String(data))));
      const url = 'ws://127.0.0.1:' + wss.address().port;
      const { Worker } = await import('node:worker_threads');
      const log = [];
      try { new Worker('', { eval: true }); } catch (error) { log.push(error.message); } // Node's own words
      const echo = (qq) => new Promise((resolve) => {
        const task = qq.connectSocket({ url });
        task.onOpen(() => task.send({ data: 'hi' }));
        task.onMessage(({ data }) => { log.push(data); task.close(); });
        task.onError(({ errMsg }) => log.push(errMsg));
        task.onClose(({ code }) => { log.push(code); resolve(); });
      });
      for (const backend of ['thread', 'thread', 'inline']) {
        const qq = createQQ({ backend });
        await echo(qq);
        await qq.destroy();
      }
      wss.close();
      console.log(JSON.stringify(log));
      `,
      // Strict: a rejection nobody heard (a refused pool's task) would end the process.
      { flags: [PERMISSION, '--allow-fs-read=*', '--unhandled-rejections=strict'] },
    );
    const [nodeSays, ...log] = JSON.parse(stdout);
    // What the errMsg adds to each version's words (an unknown one fails: read it first).
    const refused = {
      'Access to this API has been restricted': // Node 20
        "socket host died: Access to this API has been restricted (run node with --allow-worker, or use backend 'inline')",
      'Access to this API has been restricted. Use --allow-worker to manage permissions.': // Node 22, 24
        "socket host died: Access to this API has been restricted. Use --allow-worker to manage permissions. (or use backend 'inline')",
    }[nodeSays as string];
    expect(refused).toBeDefined();
    expect(log).toEqual([refused, 1006, refused, 1006, 'hi', 1000]);
  });
});

describe('tcpNoDelay', () => {
  it('sets TCP_NODELAY on the socket as asked, off by default (ws turns it on for every socket)', async () => {
    // A real socket's setNoDelay, spied on in the host's thread; the last call on a socket wins.
    const { stdout } = await node(
      '--input-type=module',
      `
      import { WebSocketServer } from 'ws';
      import { createQQ } from 'qq-socket-worker';
      const calls = [];
      const spy = new BroadcastChannel('qq-socket-worker.nodelay-spy');
      spy.onmessage = (event) => calls.push(event.data);
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      await new Promise((r) => wss.once('listening', r));
      const ports = new Map();
      wss.on('connection', (ws, req) => ports.set(req.url, req.socket.remotePort));
      const url = 'ws://127.0.0.1:' + wss.address().port;
      const result = {};
      for (const backend of ['inline', 'thread']) {
        const qq = createQQ({ backend });
        for (const [name, tcpNoDelay] of [['on', true], ['off', false], ['default', undefined]]) {
          const path = '/' + backend + '-' + name;
          const task = qq.connectSocket({ url: url + path, tcpNoDelay });
          await new Promise((r) => task.onOpen(r));
          // ws's call and ours, both made before the open event left the host (a second at most
          // for the spy's channel to catch up; without our call the diff below says so).
          const mine = () => calls.filter((c) => c.port === ports.get(path));
          for (let i = 0; i < 200 && mine().length < 2; i++) await new Promise((r) => setTimeout(r, 5));
          result[path] = mine().map((c) => c.noDelay);
          task.close();
          await new Promise((r) => task.onClose(r));
        }
        await qq.destroy();
      }
      console.log(JSON.stringify(result));
      spy.close();
      wss.close();
      `,
      { preload: fileURLToPath(new URL('./fixtures/nodelay-spy.cjs', import.meta.url)) },
    );
    expect(JSON.parse(stdout)).toEqual({
      '/inline-on': [true, true],
      '/inline-off': [true, false],
      '/inline-default': [true, false],
      '/thread-on': [true, true],
      '/thread-off': [true, false],
      '/thread-default': [true, false],
    });
  });
});

describe('package entry points', () => {
  it('works with require() (CommonJS)', async () => {
    const { stdout } = await node(
      '--input-type=commonjs',
      `
      const { createQQ } = require('qq-socket-worker');
      const { WebSocketServer } = require('ws');
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => {
        wss.on('connection', (s) => s.on('message', (d) => s.send(d.toString())));
        const qq = createQQ();
        const task = qq.connectSocket({ url: 'ws://127.0.0.1:' + wss.address().port });
        task.onOpen(() => task.send({ data: 'from cjs' }));
        task.onMessage(async ({ data }) => { console.log(data); await qq.destroy(); wss.close(); });
      });
      `,
    );
    expect(stdout.trim()).toBe('from cjs');
  });

  it("gives require() under the browser condition (jest's jsdom environment) a CommonJS browser build that runs inline", async () => {
    // What jest's jsdom environment resolves for code its Babel transform turned into require():
    // `browser` and `require`. Its globals lack workers, MessageChannel and structuredClone (and
    // TextEncoder, which Node 20's own WebSocket, standing in for jsdom's here, needs: the
    // Chromium page of bare.browser.test.ts goes without it). The server is this process's:
    // under that condition require('ws') is ws's browser stub.
    const { stdout } = await node(
      '--input-type=commonjs',
      `
      for (const name of ['MessageChannel', 'structuredClone']) delete globalThis[name];
      const { createQQ } = require('qq-socket-worker');
      const log = [];
      const warn = console.warn;
      console.warn = (text) => log.push(text);
      const qq = createQQ();
      const task = qq.connectSocket({ url: ${JSON.stringify(`${server.url}/echo`)} });
      task.onOpen(() => {
        task.send({ data: 'from a jest test' });
        task.send({ data: new Uint8Array([1, 2, 3]).buffer, transfer: true });
      });
      task.onMessage(({ data }) => {
        log.push(typeof data === 'string' ? data : [...new Uint8Array(data)]);
        if (log.length === 3) task.close();
      });
      task.onClose(async ({ code }) => {
        log.push(code, require.resolve('qq-socket-worker').split('/dist/')[1]);
        await qq.destroy();
        console.warn = warn;
        console.log(JSON.stringify(log));
      });
      `,
      { flags: ['--conditions=browser', ...(typeof WebSocket === 'function' ? [] : ['--experimental-websocket'])] },
    );
    expect(JSON.parse(stdout)).toEqual([
      'qq-socket-worker: this runtime has no Web Worker; backend auto runs inline, on this thread',
      'from a jest test',
      [1, 2, 3],
      1000,
      'browser/index.cjs',
    ]);
  });

  it('installs globalThis.qq from qq-socket-worker/global, with require too', async () => {
    const esm = await node(
      '--input-type=module',
      `import 'qq-socket-worker/global'; console.log(typeof qq.connectSocket, typeof qq.onSocketOpen);`,
    );
    expect(esm.stdout.trim()).toBe('function function');
    const cjs = await node(
      '--input-type=commonjs',
      `require('qq-socket-worker/global'); console.log(Object.keys(globalThis.qq).length);`,
    );
    expect(Number(cjs.stdout.trim())).toBe(13);
  });
});

describe('createQQ options', () => {
  it('returns a fresh instance with every function of the spec', () => {
    const a = createQQ();
    const b = createQQ();
    expect(a).not.toBe(b);
    expect(Object.keys(a).sort()).toEqual(
      [
        'closeSocket',
        'connectSocket',
        'destroy',
        'offSocketClose',
        'offSocketError',
        'offSocketMessage',
        'offSocketOpen',
        'onSocketClose',
        'onSocketError',
        'onSocketMessage',
        'onSocketOpen',
        'sendSocketMessage',
        'stats',
      ].sort(),
    );
  });

  it.each([
    [{ backend: 'worker' }, "createQQ: options.backend must be 'auto', 'thread' or 'inline'"],
    [{ maxConnections: 0 }, 'createQQ: options.maxConnections must be a positive integer'],
    [{ maxConnections: '5' }, 'createQQ: options.maxConnections must be a positive integer'],
    [{ connectTimeout: -1 }, 'createQQ: options.connectTimeout must be a positive integer (ms)'],
    [{ allowedHosts: 'a.test' }, 'createQQ: options.allowedHosts must be an array of host names'],
    [{ allowedHosts: [''] }, 'createQQ: options.allowedHosts must be an array of host names'],
    [{ requireSecure: 'yes' }, 'createQQ: options.requireSecure must be a boolean'],
    [{ maxPayload: 1.5 }, 'createQQ: options.maxPayload must be a positive integer (bytes)'],
    [{ tls: 'x' }, 'createQQ: options.tls must be an object'],
    [{ tls: { ca: 1 } }, 'createQQ: options.tls.ca must be a PEM string or Buffer, or an array of them'],
    [{ tls: { cert: {} } }, 'createQQ: options.tls.cert must be a PEM string or Buffer'],
    [{ tls: { key: [] } }, 'createQQ: options.tls.key must be a PEM string or Buffer'],
    [{ tls: { rejectUnauthorized: 0 } }, 'createQQ: options.tls.rejectUnauthorized must be a boolean'],
    [{ threads: 0 }, 'createQQ: options.threads must be a positive integer'],
    [{ heartbeat: 999 }, 'createQQ: options.heartbeat must be an integer of at least 1000 (ms), or 0 for never'],
    [{ heartbeat: -1 }, 'createQQ: options.heartbeat must be an integer of at least 1000 (ms), or 0 for never'],
    [{ heartbeat: 1500.5 }, 'createQQ: options.heartbeat must be an integer of at least 1000 (ms), or 0 for never'],
    [{ heartbeat: '30000' }, 'createQQ: options.heartbeat must be an integer of at least 1000 (ms), or 0 for never'],
    [{ heartbeat: Number.NaN }, 'createQQ: options.heartbeat must be an integer of at least 1000 (ms), or 0 for never'],
    [{ sharing: 'tabs' }, "createQQ: options.sharing must be 'auto', 'shared-worker' or 'leader'"],
    [{ sharing: true }, "createQQ: options.sharing must be 'auto', 'shared-worker' or 'leader'"],
    [{ workerUrl: 42 }, 'createQQ: options.workerUrl must be a file: URL or a path (of node-thread.js)'],
    [
      { workerUrl: 'https://cdn.test/node-thread.js' },
      'createQQ: options.workerUrl must be a file: URL or a path (of node-thread.js)',
    ],
    ['thread', 'createQQ: options must be an object'],
  ])('throws a TypeError for %j', (options, message) => {
    expect(() => createQQ(options as never)).toThrow(new TypeError(message));
  });

  it.each([42, ['a.test', 1], 'a.test:99999', 'a.test:x', '10.0.0.0/33', '[::1', 'a*b.test', '1.2.3.4/'])(
    'throws a TypeError for noProxy %j',
    (noProxy) => {
      expect(() => createQQ({ proxy: 'http://127.0.0.1:3128', noProxy } as never)).toThrow(
        new TypeError(
          "createQQ: options.noProxy must be hosts as NO_PROXY lists them ('*', name[:port], .domain, IP[:port], IP/prefix)",
        ),
      );
    },
  );

  it.each([0, 1000, 30_000, 2 ** 40, Number.POSITIVE_INFINITY])(
    'takes heartbeat %d, and Node, which needs none, says nothing of it',
    async (heartbeat) => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      try {
        await createQQ({ heartbeat }).destroy();
        expect(warn).not.toHaveBeenCalled();
      } finally {
        warn.mockRestore();
      }
    },
  );
});
