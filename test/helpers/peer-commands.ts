/**
 * The browser command behind browser-peers.ts: runs in the vitest process, where the servers
 * live, and answers a page's questions about them with plain data.
 */
import type { BrowserCommand } from 'vitest/node';
import { nodePeers } from './node-peers.js';
import type { PeerOptions, PeerServer } from './peers.js';

export type PeerCall =
  | { op: 'start'; options?: PeerOptions }
  | { op: 'python' }
  | { op: 'closedPort' }
  | { op: 'ask'; id: number; method: Exclude<keyof PeerServer, 'url'>; arg?: number };

const servers = new Map<number, PeerServer | { close(): Promise<void> }>();
let nextId = 1;

const keep = (server: PeerServer | { url: string; close(): Promise<void> }) => {
  const id = nextId++;
  servers.set(id, server);
  return { id, url: server.url };
};

export const peer: BrowserCommand<[call: PeerCall], unknown> = async (_context, call) => {
  switch (call.op) {
    case 'start':
      return keep(await nodePeers.start(call.options));
    case 'python':
      return keep(await nodePeers.python());
    case 'closedPort':
      return nodePeers.closedPort();
    case 'ask': {
      const server = servers.get(call.id);
      if (!server) throw new Error(`no peer ${call.id}`);
      if (call.method === 'close') servers.delete(call.id);
      const method = (server as PeerServer)[call.method] as (arg?: number) => Promise<unknown>;
      return method.call(server, call.arg);
    }
  }
};
