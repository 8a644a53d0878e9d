/**
 * The Node platform: how a facade reaches a host. `thread` runs the host as a long-lived piscina
 * task (pools are shared by every instance of the process with the same settings); `inline` runs
 * the same host on this thread, over the same ports.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { hostDeath } from '../shared/errors.js';
import type { HostConfig, Port } from '../shared/protocol.js';
import { setImmediate } from '../shared/timers.js';
import { nodeSocketFactory } from '../worker/node-socket.js';
import type { HostLink } from './client.js';
import { inlineLink, linkPorts } from './link.js';
import type { Platform } from './platform.js';

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
/** Pools by thread count and host script. */
const pools = new Map<string, PoolEntry>();

/** The host's script beside this module (the built dist/node-thread.js). */
const threadFile = (): URL => new URL('./node-thread.js', import.meta.url);

/**
 * Runs `start`; where Node's permission model (--permission; --experimental-permission on
 * Node 20) refuses threads, the error says what to do about it (Node 22 and 24 name the flag
 * themselves: then only the other way out is added).
 */
function explainRefusal<T>(start: () => T): T {
  try {
    return start();
  } catch (error) {
    if ((error as { code?: string })?.code !== 'ERR_ACCESS_DENIED') throw error;
    throw new Error(hostDeath.threadsRefused((error as Error).message));
  }
}

/**
 * Starts a host on a pool thread, from `script` (workerUrl: a bundled app that moved
 * node-thread.js) or the package's own.
 */
export function threadLink(config: HostConfig, threads: number, script = threadFile()): HostLink {
  // A missing script would fail in the thread with a module-loader message naming piscina.
  if (script.protocol === 'file:' && !existsSync(fileURLToPath(script))) {
    throw new Error(hostDeath.noScriptFile(script.href));
  }
  const key = `${threads} ${script.href}`;
  let entry = pools.get(key);
  if (entry === undefined) {
    entry = {
      pool: new Piscina({
        filename: script.href,
        minThreads: 0,
        maxThreads: threads,
        concurrentTasksPerWorker: HOSTS_PER_THREAD,
        atomics: 'disabled',
        idleTimeout: THREAD_IDLE_TIMEOUT_MS,
        resourceLimits: THREAD_RESOURCE_LIMITS,
      }),
      hosts: 0,
    };
    pools.set(key, entry);
  }
  const held = entry;
  // Counted before the run: a pool whose run threw (threads refused) keeps a task that
  // destroying the pool would reject with nobody to hear it, so such a pool is never released.
  held.hosts++;
  const data = new MessageChannel();
  const control = new MessageChannel();
  const ended = explainRefusal(() =>
    held.pool.run(
      { data: data.port2, control: control.port2, config },
      { transferList: [data.port2, control.port2] as never },
    ),
  );
  ended.catch(() => {}); // the client reports it
  // Node's MessagePort is a Port; its typings declare the EventTarget's listener, not a message one.
  return linkPorts(data.port1 as unknown as Port, control.port1 as unknown as Port, ended, () => {
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

/** Node: `thread` (the default) or `inline`. */
export const nodePlatform: Platform = {
  backends: ['thread', 'inline'],
  auto: () => 'thread',
  link: (config, options) =>
    options.backend === 'inline'
      ? inlineLink(config, nodeSocketFactory)
      : threadLink(config, options.threads, options.workerUrl),
  schedule: setImmediate,
  releaseIdle: releaseIdlePools,
  threads: poolThreads,
  workerUrl: {
    what: 'a file: URL or a path (of node-thread.js)',
    resolve(value) {
      // A scheme (two letters or more: 'C:' is a Windows drive, a path) makes it a URL.
      if (value instanceof URL || /^[a-z][a-z0-9+.-]+:/i.test(value)) {
        const url = new URL(value);
        if (url.protocol !== 'file:') throw new TypeError('not a file: URL');
        return url;
      }
      return pathToFileURL(resolve(value));
    },
  },
  headersIgnored: false,
  canPing: true,
  ignoredOptions: {},
};
