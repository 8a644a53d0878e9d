/** The suite's peers as a page sees them: servers in the vitest process (peer-commands.ts). */
import { commands, server } from 'vitest/browser';
import type { EngineName } from './engines.js';
import type { PeerCall } from './peer-commands.js';
import type { PeerServer, Peers, Runtime } from './peers.js';

declare module 'vitest/browser' {
  interface BrowserCommands {
    peer(call: PeerCall): Promise<unknown>;
  }
}

const call = <T>(c: PeerCall) => commands.peer(c) as Promise<T>;

function remote({ id, url }: { id: number; url: string }): PeerServer {
  const ask =
    <T>(method: Exclude<keyof PeerServer, 'url'>) =>
    (arg?: number) =>
      call<T>({ op: 'ask', id, method, arg });
  return {
    url,
    lastHeaders: ask('lastHeaders'),
    lastReceived: ask('lastReceived'),
    closes: ask('closes'),
    openCount: ask('openCount'),
    closed: ask('closed'),
    resumeReading: ask('resumeReading'),
    dropAll: ask('dropAll'),
    acceptedCount: ask('acceptedCount'),
    close: ask('close'),
  };
}

export const browserPeers: Peers = {
  start: async (options) => remote(await call({ op: 'start', options })),
  python: async () => {
    const { id, url } = await call<{ id: number; url: string }>({ op: 'python' });
    return { url, close: () => call({ op: 'ask', id, method: 'close' }) };
  },
  closedPort: () => call({ op: 'closedPort' }),
};

/**
 * The suite in a browser: peers in the vitest process. Chromium trusts the `tls: true` peer's
 * certificate by its launch flags (vitest.config.ts), as a user's browser trusts a real one;
 * Firefox and WebKit accept any certificate (engine-provider.ts).
 */
export const browserRuntime: Runtime = {
  name: 'browser',
  engine: server.browser as EngineName,
  peers: browserPeers,
  trust: {},
  onUnhandledRejection(listener) {
    const onEvent = (event: PromiseRejectionEvent) => listener(event.reason);
    addEventListener('unhandledrejection', onEvent);
    return () => removeEventListener('unhandledrejection', onEvent);
  },
};
