/**
 * Worker-thread entry: one piscina task per qq instance, running a host until the facade shuts
 * it down. Only adapts piscina's task shape; the host lives in host.ts.
 */
import type { HostControl, HostInit } from '../shared/protocol.js';
import { nodeSocketFactory } from './node-socket.js';
import { refusal, runHost } from './run-host.js';

/** Test hook: the three ways a thread dies that the facade must survive. */
const crash: HostControl['crash'] = (how) => {
  if (how === 'exit') process.exit(1);
  if (how === 'throw') {
    setTimeout(() => {
      throw new Error('qq-socket-worker: host crash requested');
    });
    return;
  }
  // 'oom': grow the heap until the thread's resourceLimits end it.
  setTimeout(() => {
    const hog: number[][] = [];
    for (;;) hog.push(new Array(1 << 20).fill(hog.length + 0.5));
  });
};

/** The task piscina runs: a host for one facade (its ports arrive in the transfer list). */
export default function run(task: HostInit): Promise<void> {
  const refused = refusal(task.config);
  if (refused !== undefined) return Promise.reject(new Error(refused));
  return runHost(task, { factory: nodeSocketFactory, crash });
}
