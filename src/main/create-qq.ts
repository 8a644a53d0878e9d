/** createQQ: a qq object with the mini-program socket API, its sockets in a host off this thread. */
import { errors, ok } from '../shared/errors.js';
import { type HostConfig, PROTOCOL_VERSION } from '../shared/protocol.js';
import { clearTimeout, setTimeout } from '../shared/timers.js';
import type { ConnectSocketOption, QQ, QQOptions, SocketTask } from '../shared/types.js';
import { isOptionsObject } from '../shared/validate.js';
import { callbackReply, soon } from './callbacks.js';
import { HostClient, type HostLink } from './client.js';
import { GlobalBinding } from './global-binding.js';
import { failedLink } from './link.js';
import { checkConnect, type ResolvedOptions, resolveOptions } from './options.js';
import type { Platform } from './platform.js';
import { type EventName, type EventResults, SocketTaskImpl, type TaskOwner } from './socket-task.js';

/** A host with no socket is released after this long (a quick reconnect reuses it). */
const IDLE_RELEASE_MS = 1000;

class QQInstance implements TaskOwner {
  readonly #options: ResolvedOptions;
  readonly #platform: Platform;
  #warnedHeaders = false;
  readonly #binding = new GlobalBinding();
  /** Tasks that are CONNECTING, OPEN or CLOSING: the ones that hold a connection slot. */
  readonly #live = new Set<SocketTaskImpl>();
  #client: HostClient | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #nextId = 1;
  #destroyed: Promise<void> | undefined;

  constructor(options: ResolvedOptions, platform: Platform) {
    this.#options = options;
    this.#platform = platform;
  }

  connectSocket(option: ConnectSocketOption): SocketTask {
    const reply = callbackReply(option);
    const id = this.#nextId++;
    const url = isOptionsObject(option) && typeof option.url === 'string' ? option.url : '';
    const refuse = (errMsg: string): SocketTask => {
      soon(() => reply.fail(errMsg));
      return new SocketTaskImpl(id, url);
    };
    if (this.#destroyed !== undefined) return refuse(errors.destroyed());
    const checked = checkConnect(option, this.#options);
    if (!checked.ok) return refuse(checked.errMsg);
    if (this.#live.size >= this.#options.maxConnections) {
      return refuse(errors.exceedMaxConcurrent(this.#options.maxConnections));
    }
    if (this.#platform.headersIgnored && Object.keys(checked.value.headers).length > 0) {
      if (!this.#warnedHeaders)
        console.warn('qq-socket-worker: browsers cannot set handshake headers; header is ignored');
      this.#warnedHeaders = true;
      checked.value.headers = {};
    }
    const client = this.#host();
    const task = new SocketTaskImpl(id, url, client, this);
    this.#live.add(task);
    client.attach(id, task);
    this.#binding.offer(task);
    client.post({ type: 'connect', id, ...checked.value });
    soon(() => reply.ok({ errMsg: ok('connectSocket'), socketTaskId: id } as never));
    return task;
  }

  /** The running host, started on first use and again after it died or was released. */
  #host(): HostClient {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (this.#client?.running) return this.#client;
    const config: HostConfig = {
      protocolVersion: PROTOCOL_VERSION,
      maxPayload: this.#options.maxPayload,
      tls: this.#options.tls,
      proxy: this.#options.proxy,
    };
    let link: HostLink;
    try {
      link = this.#platform.link(config, this.#options);
    } catch (error) {
      link = failedLink(String((error as Error)?.message ?? error)); // never a throw from connectSocket
    }
    this.#client = new HostClient(link, this.#platform.schedule);
    return this.#client;
  }

  released(task: SocketTaskImpl): void {
    this.#live.delete(task);
    if (this.#live.size > 0 || this.#client === undefined || this.#destroyed !== undefined) return;
    // No socket left: let the host go, so an app that never calls destroy() can still exit.
    const client = this.#client;
    this.#idleTimer = setTimeout(() => {
      if (this.#client === client && this.#live.size === 0) {
        this.#client = undefined;
        void client.shutdown();
      }
    }, IDLE_RELEASE_MS);
    (this.#idleTimer as { unref?: () => void }).unref?.();
  }

  emitGlobal<K extends EventName>(name: K, task: SocketTaskImpl, result: EventResults[K]): void {
    this.#binding.emit(name, task, result);
  }

  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      clearTimeout(this.#idleTimer);
      const client = this.#client;
      this.#client = undefined;
      if (client !== undefined) await client.shutdown();
      await this.#platform.releaseIdle();
    })();
    return this.#destroyed;
  }

  /** Test and diagnostics hook, reachable only through {@link DEBUG}. */
  #debug() {
    return {
      /** Sockets in this instance's host (undefined: no host running). */
      stats: () => this.#client?.link.control.stats(),
      /** Makes this instance's host die ('throw' | 'exit' | 'oom'; thread backend). */
      crash: (how: 'throw' | 'exit' | 'oom') => {
        void this.#client?.link.control.crash(how).catch(() => {});
      },
      /** Worker threads alive in this process's pools. */
      threads: () => this.#platform.threads(),
    };
  }

  /** The object handed to users: plain functions, so `const { connectSocket } = qq` works. */
  api(): QQ {
    const b = this.#binding;
    const qq = {
      connectSocket: (option: ConnectSocketOption) => this.connectSocket(option),
      sendSocketMessage: (option: unknown) => b.sendSocketMessage(option),
      closeSocket: (option?: unknown) => b.closeSocket(option),
      onSocketOpen: (cb: unknown) => b.set('open', cb),
      onSocketMessage: (cb: unknown) => b.set('message', cb),
      onSocketError: (cb: unknown) => b.set('error', cb),
      onSocketClose: (cb: unknown) => b.set('close', cb),
      offSocketOpen: () => b.set('open', undefined),
      offSocketMessage: () => b.set('message', undefined),
      offSocketError: () => b.set('error', undefined),
      offSocketClose: () => b.set('close', undefined),
      destroy: () => this.destroy(),
    };
    Object.defineProperty(qq, DEBUG, { value: this.#debug() });
    return qq as unknown as QQ;
  }
}

/** Test and diagnostics hook (not public API): `qq[Symbol.for('qq-socket-worker.debug')]`. */
const DEBUG = Symbol.for('qq-socket-worker.debug');

/** Makes the `createQQ` of a runtime (the Node and browser entries each pass their platform). */
export function makeCreateQQ(platform: Platform): (options?: QQOptions) => QQ {
  return (options) => new QQInstance(resolveOptions(options, platform), platform).api();
}
