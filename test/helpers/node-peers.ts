/** The suite's peers served from this Node process (see peers.ts). */
import type { PeerServer, Peers, Runtime, ServerMessage } from './peers.js';
import {
  closedPort,
  startPythonServer,
  startWsServer,
  type TestServer,
  TLS_CERT,
  untrustedCertificateError,
} from './servers.js';

const asMessage = (m: string | Buffer): ServerMessage => (typeof m === 'string' ? m : [...m]);

/** The plain-data view of a server that peers.ts promises. */
export function peerServer(server: TestServer): PeerServer {
  const { log } = server;
  return {
    url: server.url,
    lastHeaders: async () => ({ ...log.headers.at(-1) }),
    lastReceived: async () => (log.received.at(-1) ?? []).map(asMessage),
    closes: async () => [...log.closes],
    openCount: async () => log.open,
    closed: (n) => server.closed(n),
    resumeReading: async () => server.resumeReading(),
    dropAll: async () => server.dropAll(),
    acceptedCount: async () => log.accepted,
    close: () => server.close(),
  };
}

export const nodePeers: Peers = {
  start: async (options) => peerServer(await startWsServer(options)),
  python: startPythonServer,
  closedPort,
};

/** The suite in Node: peers in this process, TLS trust through `tls.ca`. */
export const nodeRuntime: Runtime = {
  name: 'node',
  peers: nodePeers,
  trust: { tls: { ca: TLS_CERT } },
  untrustedCertificate: untrustedCertificateError,
  onUnhandledRejection(listener) {
    process.on('unhandledRejection', listener);
    return () => process.off('unhandledRejection', listener);
  },
  openPorts: () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length,
};
