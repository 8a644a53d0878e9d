/**
 * WebKitGTK's MiniBrowser started directly, without WebDriver, for tests that crash a tab: a
 * WebDriver session ends when its page's web process dies. Each tab loads
 * test/fixtures/remote-tab.html, which takes scripts to evaluate over a WebSocket from here, and
 * the test finds the web process of a tab by the memory it makes that tab take.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { MINIBROWSER, startXvfb } from './engines.js';

export interface RemoteTab {
  name: string;
  /** Evaluates `script` (an expression) in the page; a Promise is awaited. The value must be JSON-able. */
  evaluate<T = unknown>(script: string): Promise<T>;
  /** The pid of this tab's web process (WebKitWebProcess). */
  webProcess(): Promise<number>;
}

export interface MiniBrowser {
  /** The tab that loaded `url(name)`, once its page is ready for scripts. */
  tab(name: string): Promise<RemoteTab>;
  close(): Promise<void>;
}

/** What the page of a tab needs: `origin` serves test/fixtures/ under /fixtures/ (chromium.ts startStaticServer). */
export interface TabPage {
  name: string;
  origin: string;
}

/** The kB of resident memory of a process, or undefined when it is gone. */
function residentKb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The web processes of the MiniBrowser `parent` (its children named WebKitWebProcess). */
function webProcesses(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: the name may hold spaces, so read after its closing parenthesis.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('WebKitWebProcess')) {
        pids.push(Number(entry));
      }
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** MiB a tab allocates (and touches) to tell its web process from the others. */
const BALLAST_MIB = 128;

/**
 * Starts MiniBrowser (private browsing, on its own Xvfb unless `QQ_WEBKIT_DISPLAY` names a
 * display) with one tab per page, each in a web process of its own. `proxy`: an HTTP proxy for
 * every host but 127.0.0.1 (a page of a host name that only the proxy knows is not a secure
 * context, as on any plain http:// site).
 */
export async function launchMiniBrowser(pages: TabPage[], options: { proxy?: string } = {}): Promise<MiniBrowser> {
  const control = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => control.once('listening', resolve));
  const controlUrl = `ws://127.0.0.1:${(control.address() as AddressInfo).port}`;
  const xvfb = process.env.QQ_WEBKIT_DISPLAY ? undefined : await startXvfb();
  const display = process.env.QQ_WEBKIT_DISPLAY ?? (xvfb?.display as string);
  const urls = pages.map(
    ({ name, origin }) =>
      `${origin}/fixtures/remote-tab.html?tab=${encodeURIComponent(name)}&control=${encodeURIComponent(controlUrl)}`,
  );
  const proxy = options.proxy ? [`--proxy=${options.proxy}`, '--ignore-host=127.0.0.1'] : [];
  const browser: ChildProcess = spawn(MINIBROWSER, ['--private', ...proxy, ...urls], {
    stdio: 'ignore',
    env: { ...process.env, DISPLAY: display },
  });
  const exited = new Promise<void>((resolve) => browser.once('exit', () => resolve()));
  const sockets = new Map<string, (socket: WebSocket) => void>();
  const ready = new Map(
    pages.map(({ name }) => {
      const socket = new Promise<WebSocket>((resolve, reject) => {
        sockets.set(name, resolve);
        void exited.then(() => reject(new Error(`MiniBrowser exited before tab ${name} was ready`)));
      });
      socket.catch(() => {}); // a tab never asked for
      return [name, socket] as const;
    }),
  );
  control.on('connection', (socket) => {
    socket.once('message', (data) => {
      const hello = JSON.parse(String(data)) as { hello?: string };
      if (hello.hello !== undefined) sockets.get(hello.hello)?.(socket);
    });
  });

  const tabs = new Map<string, Promise<RemoteTab>>();
  const connect = async (name: string): Promise<RemoteTab> => {
    const socket = await (ready.get(name) ?? Promise.reject(new Error(`no tab ${name}`)));
    let next = 0;
    const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
    socket.on('message', (data) => {
      const reply = JSON.parse(String(data)) as { id: number; value?: unknown; error?: string };
      const call = pending.get(reply.id);
      pending.delete(reply.id);
      if (reply.error !== undefined) call?.reject(new Error(reply.error));
      else call?.resolve(reply.value);
    });
    socket.on('close', () => {
      for (const call of pending.values()) call.reject(new Error(`tab ${name} is gone`));
      pending.clear();
    });
    const evaluate = <T>(script: string) =>
      new Promise<T>((resolve, reject) => {
        const id = ++next;
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        socket.send(JSON.stringify({ id, script }));
      });
    return {
      name,
      evaluate,
      webProcess: async () => {
        const pid = browser.pid as number;
        const before = new Map(webProcesses(pid).map((p) => [p, residentKb(p) ?? 0]));
        await evaluate(`(window.ballast = new Uint8Array(${BALLAST_MIB} << 20).fill(1), 0)`);
        const grown = webProcesses(pid).filter(
          (p) => (residentKb(p) ?? 0) - (before.get(p) ?? Number.POSITIVE_INFINITY) > (BALLAST_MIB * 1024 * 3) / 4,
        );
        await evaluate('(window.ballast = undefined, 0)');
        if (grown.length !== 1) throw new Error(`tab ${name}: ${grown.length} web processes grew by its ballast`);
        return grown[0] as number;
      },
    };
  };
  return {
    tab: (name) => {
      if (!tabs.has(name)) tabs.set(name, connect(name));
      return tabs.get(name) as Promise<RemoteTab>;
    },
    close: async () => {
      browser.kill();
      await exited;
      xvfb?.stop();
      for (const socket of control.clients) socket.terminate();
      await new Promise<void>((resolve) => control.close(() => resolve()));
    },
  };
}
