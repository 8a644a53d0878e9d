/**
 * The browser hosts' batching (run-host.ts `coalescing`): a browser delivers every WebSocket
 * message as a task of its own, and the host must still post at most one batch per 1 ms window,
 * not one per message. Counted, not timed: the bound follows from the window, whatever the load.
 */
import { createQQ, type QQ } from 'qq-socket-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserPeers } from './helpers/browser-peers.js';
import type { PeerServer } from './helpers/peers.js';
import { record } from './helpers/record.js';

type Debug = { stats(): Promise<{ batches: number }> };
const debug = (qq: QQ) => (qq as unknown as Record<symbol, Debug>)[Symbol.for('qq-socket-worker.debug')] as Debug;

let server: PeerServer;
beforeAll(async () => {
  server = await browserPeers.start();
});
afterAll(() => server.close());

describe.each(['worker', 'shared'] as const)('batching (%s)', (backend) => {
  it('posts at most one batch per millisecond of a paced stream, every message in order', async () => {
    const qq = createQQ({ backend });
    try {
      const ticks = 300;
      const per = 8;
      const task = qq.connectSocket({ url: `${server.url}/paced/${ticks}/${per}` });
      const rec = record(task);
      await rec.opened;
      const before = (await debug(qq).stats()).batches;
      const start = performance.now();
      await rec.closed;
      const elapsed = performance.now() - start;
      const batches = (await debug(qq).stats()).batches - before;
      const messages = rec.events.filter((e) => e.event === 'message').map((e) => (e as { data: string }).data);
      expect(messages).toEqual(Array.from({ length: ticks * per }, (_, i) => `t${Math.floor(i / per)}.${i % per}`));
      // One per window after the first, plus the close's own batch: never one per message.
      expect(batches).toBeLessThanOrEqual(Math.ceil(elapsed) + 2);
    } finally {
      await qq.destroy();
    }
  });
});
