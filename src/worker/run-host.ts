/**
 * Runs a {@link Host} on a pair of ports (MessagePorts, Node's or the web's, or in-thread ones:
 * `Port` in protocol.ts): in a Node worker thread, a Web Worker, or (inline) on the calling thread.
 */
import * as Comlink from 'comlink';
import { hostDeath } from '../shared/errors.js';
import { type HostConfig, type HostControl, type HostInit, PROTOCOL_VERSION } from '../shared/protocol.js';
import { clearTimeout, clock, now, queueMicrotask, setImmediate, setTimeout } from '../shared/timers.js';
import { Host } from './host.js';
import type { Scheduler } from './outbox.js';
import type { SocketFactory } from './socket.js';

/** When a host posts its batches: see {@link Outbox}. */
export interface Scheduling {
  schedule: Scheduler;
  later?: Scheduler;
}

/**
 * Node: flush at the end of the current task, where one socket read (thousands of small
 * messages) is one task; a batch of large messages waits for the rest of the loop turn's reads.
 */
export const nodeScheduling: Scheduling = {
  schedule: (fn) => queueMicrotask(fn),
  later: (fn) => setImmediate(fn),
};

/**
 * In browsers every WebSocket message is a task of its own, so an end-of-task flush would post
 * once per message (docs/architecture.md "Control plane and data plane": the trap). This one flushes at the end of the task after an idle
 * spell (no added latency), but within `windowMs` of the last flush it waits for the window to
 * end: at most one post per window whatever the rate. (Waiting only a timer turn posted once per
 * message at moderate rates, where the timer fires before the next message arrives.)
 */
export function coalescing(windowMs = 1): Scheduler {
  let last = Number.NEGATIVE_INFINITY;
  return (fn) => {
    const run = () => {
      last = now();
      fn();
    };
    const since = now() - last;
    // Timer delays are whole milliseconds (WebIDL long): a fraction would be cut to 0.
    if (since < windowMs) setTimeout(run, Math.ceil(windowMs - since));
    else queueMicrotask(run);
  };
}

export interface HostOptions {
  factory: SocketFactory;
  crash: HostControl['crash'];
  /** Receives the host, for embedders that must shut it down themselves (a tab that died). */
  onHost?: (host: Host) => void;
  scheduling?: Scheduling;
}

/** Serves one facade until it asks the host to shut down; resolves once the host has ended. */
export function runHost(
  init: HostInit,
  { factory, crash, onHost, scheduling: { schedule, later } = nodeScheduling }: HostOptions,
): Promise<void> {
  const { config, data, control } = init;
  return new Promise((resolve) => {
    const host = new Host(
      config,
      {
        factory,
        post: (batch, transfer) => data.postMessage(batch, transfer),
        schedule,
        later,
        clock,
        setTimer: (fn, ms) => setTimeout(fn, ms),
        clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      },
      () => {
        data.close();
        control.close();
        resolve();
      },
    );
    onHost?.(host);
    data.addEventListener('message', (event) => host.receive(event.data as never));
    data.start();
    const api: HostControl = { stats: () => host.stats(), crash };
    Comlink.expose(api, control as unknown as Comlink.Endpoint);
  });
}

/**
 * Why a host must refuse a facade, or undefined: a facade from another build speaks another
 * protocol version, and misreading its frames would be worse than a clear refusal.
 */
export function refusal(config: HostConfig | undefined): string | undefined {
  const theirs = config?.protocolVersion;
  return theirs === PROTOCOL_VERSION ? undefined : hostDeath.protocolMismatch(PROTOCOL_VERSION, theirs);
}
