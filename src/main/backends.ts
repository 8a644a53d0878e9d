/**
 * The Node backends: how a facade reaches a host. `thread` runs the host as a long-lived piscina
 * task (pools are shared by every instance of the process with the same settings); `inline` runs
 * the same host on this thread, over the same ports.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { Piscina } from 'piscina';
import type { HostConfig, HostControl } from '../shared/protocol.js';
import { runNodeHost } from '../worker/node-host.js';
import type { DataPort, HostLink } from './client.js';

/** A V8 heap cap per thread: a runaway host dies alone instead of taking the app with it. */
const THREAD_RESOURCE_LIMITS = { maxOldGenerationSizeMb: 1024 };
/** Idle threads of a pool end after this long. */
const THREAD_IDLE_TIMEOUT_MS = 2000;
/** Hosts per thread before the pool starts another thread (up to `threads`). */
const HOSTS_PER_THREAD = 1024;

interface PoolEntry {
  pool: Piscina;
  hosts: number;
}
const pools = new Map<number, PoolEntry>();

/** The worker file beside this module (the built dist/node-thread.js). */
const threadFile = (): string => new URL('./node-thread.js', import.meta.url).href;

/** Resolves once every port emitted 'close' (Node releases a port a tick after close(), from either end). */
const allClosed = (ports: MessagePort[]) =>
  Promise.all(ports.map((port) => new Promise((resolve) => port.once('close', resolve))));

function connectPorts(
  data: MessagePort,
  control: MessagePort,
  ended: Promise<unknown>,
  onDispose: () => void,
  hostPorts: MessagePort[] = [],
): HostLink {
  const proxy = Comlink.wrap<HostControl>(control as unknown as Comlink.Endpoint);
  const released = allClosed([data, control, ...hostPorts]);
  return {
    data: data as unknown as DataPort,
    control: proxy,
    ended,
    async dispose() {
      proxy[Comlink.releaseProxy]();
      data.close();
      control.close();
      onDispose();
      await released;
    },
  };
}

/** Starts a host on a pool thread. */
export function threadLink(config: HostConfig, threads: number): HostLink {
  let entry = pools.get(threads);
  if (entry === undefined) {
    entry = {
      pool: new Piscina({
        filename: threadFile(),
        minThreads: 0,
        maxThreads: threads,
        concurrentTasksPerWorker: HOSTS_PER_THREAD,
        atomics: 'disabled',
        idleTimeout: THREAD_IDLE_TIMEOUT_MS,
        resourceLimits: THREAD_RESOURCE_LIMITS,
      }),
      hosts: 0,
    };
    pools.set(threads, entry);
  }
  const held = entry;
  held.hosts++;
  const data = new MessageChannel();
  const control = new MessageChannel();
  const ended = held.pool.run(
    { data: data.port2, control: control.port2, config },
    { transferList: [data.port2, control.port2] as never },
  );
  ended.catch(() => {}); // the client reports it
  return connectPorts(data.port1, control.port1, ended, () => {
    held.hosts--;
  });
}

/**
 * Ends every pool thread that serves no host, so that a process whose instances were all
 * destroyed keeps no thread behind.
 */
export async function releaseIdlePools(): Promise<void> {
  const idle = [...pools].filter(([, entry]) => entry.hosts === 0);
  for (const [key] of idle) pools.delete(key);
  await Promise.all(idle.map(([, entry]) => entry.pool.destroy()));
}

/** Threads alive in every pool of this process (diagnostics and leak tests). */
export const poolThreads = (): number => [...pools.values()].reduce((n, entry) => n + entry.pool.threads.length, 0);

/** Starts a host on this thread. */
export function inlineLink(config: HostConfig): HostLink {
  const data = new MessageChannel();
  const control = new MessageChannel();
  const ended = runNodeHost(config, data.port2, control.port2, () => {
    throw new Error('crash() needs the thread backend');
  });
  return connectPorts(data.port1, control.port1, ended, () => {}, [data.port2, control.port2]);
}
