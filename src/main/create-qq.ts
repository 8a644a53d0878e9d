/** createQQ: a qq object with the mini-program socket API, its sockets in a host off this thread. */
import { errors, ok, staying } from '../shared/errors.js';
import { type HostConfig, type LogFrame, PROTOCOL_VERSION } from '../shared/protocol.js';
import { clearTimeout, setTimeout } from '../shared/timers.js';
import type {
  ConnectSocketOption,
  LogEntry,
  PipelineModule,
  QQ,
  QQOptions,
  QQStats,
  SocketTask,
} from '../shared/types.js';
import { type Checked, checkHeaders, checkUrl, isOptionsObject } from '../shared/validate.js';
import { callbackReply, safeCall, soon } from './callbacks.js';
import { HostClient, type HostLink } from './client.js';
import { GlobalBinding } from './global-binding.js';
import { failedLink } from './link.js';
import {
  type ConnectRequest,
  type Credentials,
  checkConnect,
  type ResolvedOptions,
  resolveOptions,
} from './options.js';
import type { Platform } from './platform.js';
import {
  type CommandSink,
  type DialAnswer,
  type EventName,
  type EventResults,
  SocketTaskImpl,
  type TaskOwner,
} from './socket-task.js';

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
  #warnedKeepalive = false;
  /** What each task with `reconnect` asked for, to ask a fresh host again if its host dies. */
  readonly #requests = new WeakMap<SocketTaskImpl, ConnectRequest>();
  /** Stops listening to the page's life (browsers), once the instance is destroyed. */
  #unwatchPage: (() => void) | undefined;

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
    const request = checked.value;
    if (Object.keys(request.headers).length > 0 || checked.credentials?.header !== undefined) this.#headersIgnored();
    if (this.#platform.headersIgnored) request.headers = {};
    const keepalive = request.keepalive;
    if (keepalive !== undefined && !this.#platform.canPing && keepalive.message === undefined) {
      if (!this.#warnedKeepalive) {
        console.warn(
          'qq-socket-worker: browsers cannot send a ping; keepalive without message watches only for messages from the server',
        );
      }
      this.#warnedKeepalive = true;
    }
    const client = this.#host();
    const lasting =
      request.reconnect === undefined
        ? undefined
        : { dial: this.#dialer(request, checked.credentials), policy: request.reconnect };
    const piped = request.pipeline === undefined ? undefined : { frame: request.deliver === 'frame' };
    const task = new SocketTaskImpl(id, url, client, this, lasting, piped);
    this.#live.add(task);
    if (lasting !== undefined) this.#requests.set(task, request);
    client.attach(id, task);
    this.#binding.offer(task);
    client.post({ type: 'connect', id, ...request });
    soon(() => reply.ok({ errMsg: ok('connectSocket'), socketTaskId: id } as never));
    return task;
  }

  /** Browsers cannot set handshake headers: they are ignored, with one warning per instance. */
  #headersIgnored(): void {
    if (!this.#platform.headersIgnored || this.#warnedHeaders) return;
    this.#warnedHeaders = true;
    console.warn('qq-socket-worker: browsers cannot set handshake headers; header is ignored');
  }

  /**
   * How a task with url or header functions answers the host before each attempt: calls them
   * here, on this thread, and checks what they give as connectSocket checks a url and headers.
   */
  #dialer(request: ConnectRequest, credentials: Credentials | undefined): (() => Promise<DialAnswer>) | undefined {
    if (credentials === undefined) return undefined;
    /** `fn`'s value as `check` takes it, or the errMsg of a failed attempt. */
    const ask = async <T>(
      name: 'url' | 'header',
      fn: () => unknown,
      check: (value: unknown) => Checked<T>,
    ): Promise<Checked<T>> => {
      try {
        return check(await fn());
      } catch (error) {
        return { ok: false, errMsg: staying.functionFailed(name, String((error as Error)?.message ?? error)) };
      }
    };
    return async () => {
      const url =
        credentials.url === undefined
          ? ({ ok: true, value: request.url } as const)
          : await ask('url', credentials.url, (value) => checkUrl(value, this.#options));
      if (!url.ok) return { errMsg: url.errMsg };
      const headers =
        credentials.header === undefined
          ? ({ ok: true, value: request.headers } as const)
          : await ask('header', credentials.header, checkHeaders);
      if (!headers.ok) return { errMsg: headers.errMsg };
      return { url: url.value, headers: this.#platform.headersIgnored ? {} : headers.value };
    };
  }

  revive(task: SocketTaskImpl, resume: { attempt: number; opened: boolean }): CommandSink | undefined {
    const request = this.#requests.get(task);
    if (request === undefined || this.#destroyed !== undefined) return undefined;
    const client = this.#host();
    client.attach(task.socketTaskId, task);
    client.post({ type: 'connect', id: task.socketTaskId, ...request, resume });
    return client;
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
      log: this.#options.log.level,
      pipeline: this.#options.pipeline?.href,
    };
    let link: HostLink;
    try {
      link = this.#platform.link(config, this.#options);
    } catch (error) {
      link = failedLink(String((error as Error)?.message ?? error)); // never a throw from connectSocket
    }
    const client = new HostClient(link, this.#platform.schedule, this.#log, this.#platform.lateTurnMs);
    this.#client = client;
    // The page's life (browsers): offline and online, and the back/forward cache.
    this.#unwatchPage ??= this.#platform.watchPage?.((event) => {
      const current = this.#client;
      if (current === undefined) return;
      if (event === 'hidden') current.pageHidden();
      // A shared worker is not frozen with this page: the cache is not its business (the tab
      // lets go of it on pagehide instead: see HostClient.pageHidden).
      if (current.link.shared === true && (event === 'hidden' || event === 'shown')) return;
      current.post({ type: 'page', event });
    });
    if (this.#platform.online?.() === false) client.post({ type: 'page', event: 'offline' });
    return client;
  }

  /** A host's log entry: to the `log` function, or to this thread's console. */
  #log = (frame: LogFrame): void => {
    const { level, time, id, event, message } = frame;
    const to = this.#options.log.to;
    if (to !== undefined) {
      const entry: LogEntry = { level, time, socketTaskId: id, event, message };
      safeCall(to, entry);
      return;
    }
    const line = `qq-socket-worker ${new Date(time).toISOString()} task ${id}: ${message}`;
    if (level === 'debug') console.debug(line);
    else if (level === 'info') console.info(line);
    else console.warn(line);
  };

  async stats(): Promise<QQStats> {
    const client = this.#client;
    const host = client?.running ? await client.link.control.stats().catch(() => undefined) : undefined;
    const byId = new Map(host?.tasks.map((t) => [t.id, t]));
    return {
      host:
        host === undefined
          ? undefined
          : {
              sockets: host.sockets,
              batchesOut: host.batches,
              batchesIn: host.received,
              inFlightBytes: host.inFlightBytes,
              inFlightMessages: host.inFlightItems,
              pauses: host.pauses,
              resumes: host.resumes,
            },
      tasks: [...this.#live].map((task) => {
        const counted = byId.get(task.socketTaskId);
        return {
          ...task.stats(),
          messagesIn: counted?.messagesIn ?? 0,
          bytesIn: counted?.bytesIn ?? 0,
          pausedMs: Math.round(counted?.pausedMs ?? 0),
          holders: counted?.holders ?? 1,
        };
      }),
    };
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
      this.#unwatchPage?.();
      // A task waiting for a fresh host after its host died has none to close it.
      for (const task of [...this.#live]) task.destroyed();
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
      stats: () => this.stats(),
    };
    Object.defineProperty(qq, DEBUG, { value: this.#debug() });
    return qq as unknown as QQ;
  }
}

/** Test and diagnostics hook (not public API): `qq[Symbol.for('qq-socket-worker.debug')]`. */
const DEBUG = Symbol.for('qq-socket-worker.debug');

/** Makes the `createQQ` of a runtime (the Node and browser entries each pass their platform). */
export function makeCreateQQ(
  platform: Platform,
): <M extends PipelineModule = PipelineModule>(options?: QQOptions) => QQ<M> {
  return <M extends PipelineModule>(options?: QQOptions) =>
    new QQInstance(resolveOptions(options, platform), platform).api() as unknown as QQ<M>;
}
