/**
 * Shared connections (SharedWorker): tasks of any tab asking for the same url and protocols with
 * `share: true` hold one real socket. Late joiners get onOpen at once; every holder gets every
 * message; a holder's close only detaches it (its own onClose carries its code); the socket
 * closes when the last holder leaves. Built as a {@link SocketFactory} around the real one, so
 * each tab's host treats a share like any other socket.
 */
import { errors } from '../shared/errors.js';
import type { ConnectFrame, HostConfig } from '../shared/protocol.js';
import { sendFailure } from './reconnect.js';
import type { HostSocket, Received, SocketFactory, SocketHandlers } from './socket.js';

/** A holder's own copy of a message's bytes. */
function copyOf(data: Exclude<Received, string>): Received {
  if (data instanceof Uint8Array) return new Uint8Array(data);
  if (data instanceof ArrayBuffer) return data.slice(0);
  return { ascii: new Uint8Array(data.ascii) };
}

interface Shared {
  socket: HostSocket;
  holders: Set<SocketHandlers>;
  /** The open event, for late joiners (until the socket reconnects). */
  opened: { header: Record<string, string>; protocol: string; connectEnd: number } | undefined;
  /** What the socket itself last said it buffers (every holder's sends), for late joiners. */
  buffered: number;
}

export class SharePool {
  readonly #factory: SocketFactory;
  readonly #shares = new Map<string, Shared>();

  constructor(factory: SocketFactory) {
    this.#factory = factory;
  }

  /** The factory for hosts: `share: true` joins a pooled socket, anything else gets its own. */
  factory: SocketFactory = (frame, config, handlers) =>
    frame.share ? this.#join(frame, config, handlers) : this.#factory(frame, config, handlers);

  /** Drops a share from the pool, unless a fresh one already took its key. */
  #forget(key: string, share: Shared): void {
    if (this.#shares.get(key) === share) this.#shares.delete(key);
  }

  #join(frame: ConnectFrame, config: HostConfig, handlers: SocketHandlers): HostSocket {
    // What must match to share: a socket that reconnects or probes does so for all its holders.
    const key = `${frame.url}\n${frame.protocols.join(',')}\n${JSON.stringify([frame.reconnect, frame.keepalive, frame.pipeline, config.pipeline])}`;
    let shared = this.#shares.get(key);
    if (shared === undefined) {
      const holders = new Set<SocketHandlers>();
      const fresh: Shared = { socket: undefined as unknown as HostSocket, holders, opened: undefined, buffered: 0 };
      fresh.socket = this.#factory(frame, config, {
        open: (header, protocol, connectEnd, again) => {
          fresh.opened = { header, protocol, connectEnd };
          for (const h of [...holders]) h.open(header, protocol, connectEnd, again);
        },
        // With a pipeline: the stage ran once; every holder gets each value (all but the last a
        // copy, as each holder's outbox may move what the value holds).
        value: (value, key, transfer) => {
          let left = holders.size;
          for (const h of holders) {
            if (--left === 0) h.value?.(value, key, transfer);
            else h.value?.(structuredClone(value), key, undefined);
          }
        },
        received: (data) => {
          for (const h of holders) h.received?.(data);
        },
        // With `reconnect`: one retry for every holder, each of them CONNECTING meanwhile.
        reconnect: (info) => {
          fresh.opened = undefined;
          fresh.buffered = 0;
          for (const h of [...holders]) h.reconnect?.(info);
        },
        message: (data) => {
          // Each holder's outbox takes its bytes over (and may move them): every one but the
          // last gets its own copy.
          let left = holders.size;
          for (const h of holders) h.message(typeof data === 'string' || --left === 0 ? data : copyOf(data));
        },
        // The socket's buffer is every holder's: each counts it in its bufferedAmount, as it
        // would count a WebSocket of its own that is congested.
        buffered: (bytes) => {
          fresh.buffered = bytes;
          for (const h of holders) h.buffered?.(bytes);
        },
        error: (errMsg, closeCode) => {
          for (const h of [...holders]) h.error(errMsg, closeCode);
        },
        close: (code, reason) => {
          this.#forget(key, fresh);
          for (const h of [...holders]) h.close(code, reason);
          holders.clear();
        },
      });
      shared = fresh;
      this.#shares.set(key, shared);
    }
    const share = shared;
    share.holders.add(handlers);
    const counted = () => {
      for (const h of share.holders) h.holders?.(share.holders.size);
    };
    counted();
    if (share.opened !== undefined) {
      const { header, protocol, connectEnd } = share.opened;
      queueMicrotask(() => {
        handlers.open(header, protocol, connectEnd);
        if (share.buffered > 0) handlers.buffered?.(share.buffered);
      });
    }
    /** This holder leaves with its own close event; the last one out closes the socket. */
    const leave = (code: number, reason: string, last: (s: HostSocket) => void) => {
      if (!share.holders.delete(handlers)) return;
      queueMicrotask(() => handlers.close(code, reason));
      counted();
      if (share.holders.size === 0) {
        this.#forget(key, share);
        last(share.socket);
      }
    };
    return {
      send: (data, done) => share.socket.send(data, done),
      sendValue: (value, done) => {
        const { socket } = share;
        if (socket.sendValue !== undefined) socket.sendValue(value, done);
        else done(sendFailure(errors.dataType()));
      },
      close: (code, reason) => leave(code, reason, (s) => s.close(code, reason)),
      abort: () => leave(1006, '', (s) => s.abort()),
      // The page's life: online and offline reach the shared socket from any tab; the
      // back/forward cache of one tab is not the shared worker's (it keeps running for the others).
      page: (event) => {
        if (event === 'online' || event === 'offline') share.socket.page?.(event);
      },
      // No pause/resume: one holder falling behind must not stop the others (see HostSocket.pause).
    };
  }
}
