/**
 * `connectSocket({ pipeline })`: the app's own per-message work, in the host. A pipeline module
 * (the app's code, `createQQ({ pipeline })`) exports stages; a stage is a factory called once per
 * task (once per socket for a share) with a {@link StageContext}, returning handlers. Each
 * message from the server goes to the stage's `message`, never to the page: what the stage emits
 * (`ctx.emit`) is what the page receives, so the page gets one small value where the server sent
 * hundreds (docs/semantics.md "Pipelines").
 *
 * Built as a {@link SocketFactory} around the reconnecting one (a stage lives as long as its task,
 * its `open` and `close` running for each connection) and under the share pool (a stage runs once
 * per shared socket). Without `pipeline` it hands the frame straight on.
 */
import { copyToArrayBuffer } from '../shared/batch.js';
import { ABNORMAL_CLOSURE_REASON, errors, pipelineErrors } from '../shared/errors.js';
import type { ConnectFrame, HostConfig, PageFrame } from '../shared/protocol.js';
import type { Stage, StageContext, StageFactory } from '../shared/types.js';
import { utf8ByteLength } from '../shared/validate.js';
import { sendFailure } from './reconnect.js';
import type { HostSocket, Received, SendDone, SocketFactory, SocketHandlers } from './socket.js';

/** `pipeline: 'json'`: text parsed in the host, binary passed on; sends of values stringified. */
export const jsonStage: StageFactory = (ctx) => ({
  message(data) {
    if (typeof data === 'string') ctx.emit(JSON.parse(data));
    else ctx.emit(data, undefined, [data]);
  },
  send: (value) => JSON.stringify(value),
});

/** Pipeline modules by URL: each imported once per host (per worker). */
const modules = new Map<string, Promise<Record<string, unknown>>>();

function load(url: string): Promise<Record<string, unknown>> {
  let module = modules.get(url);
  if (module === undefined) {
    module = import(/* @vite-ignore */ /* webpackIgnore: true */ url) as Promise<Record<string, unknown>>;
    modules.set(url, module);
  }
  return module;
}

/** The stage `name`: the built-in one, or the module's export. Rejects with the errMsg. */
async function stageOf(name: string, url: string | undefined): Promise<StageFactory> {
  if (name === 'json') return jsonStage; // built in: the module is not even loaded

  if (url === undefined) throw new Error(pipelineErrors.noModule(name));
  let module: Record<string, unknown>;
  try {
    module = await load(url);
  } catch (error) {
    throw new Error(pipelineErrors.loadFailed(url, String((error as Error)?.message ?? error)));
  }
  const factory = module[name];
  if (typeof factory !== 'function') throw new Error(pipelineErrors.notFound(name, url));
  return factory as StageFactory;
}

export function withPipeline(inner: SocketFactory): SocketFactory {
  return (frame, config, handlers) =>
    frame.pipeline === undefined ? inner(frame, config, handlers) : new Piped(inner, frame, config, handlers);
}

const isBytes = (value: unknown): value is ArrayBuffer | ArrayBufferView =>
  value instanceof ArrayBuffer || ArrayBuffer.isView(value);
const asBytes = (value: ArrayBuffer | ArrayBufferView): Uint8Array =>
  value instanceof ArrayBuffer
    ? new Uint8Array(value)
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
const ignore: SendDone = () => {};
/** Reasons go on the wire: at most 123 UTF-8 bytes. */
const wireReason = (text: string) => (utf8ByteLength(text) <= 123 ? text : 'pipeline failed');

/** A socket whose messages go through a stage. */
class Piped implements HostSocket {
  readonly #frame: ConnectFrame;
  readonly #handlers: SocketHandlers;
  readonly #name: string;
  #stage: Stage<unknown> | undefined;
  #socket: HostSocket | undefined;
  /** What the task asked of the socket before the stage was ready, in order. */
  #waiting: Array<(socket: HostSocket) => void> = [];
  #protocol = '';
  /** The stage failed, or the socket closed: nothing more goes to the stage or the page. */
  #done = false;

  constructor(inner: SocketFactory, frame: ConnectFrame, config: HostConfig, handlers: SocketHandlers) {
    this.#frame = frame;
    this.#handlers = handlers;
    this.#name = frame.pipeline as string;
    stageOf(this.#name, config.pipeline).then(
      (factory) => {
        if (this.#done) return; // closed while the module loaded
        try {
          this.#stage = factory(this.#context());
          if (typeof this.#stage?.message !== 'function') throw new Error('the stage has no message handler');
        } catch (error) {
          return this.#end(pipelineErrors.threw(this.#name, 'stage', error), 1006);
        }
        const socket = inner(frame, config, this.#stageHandlers());
        this.#socket = socket;
        for (const op of this.#waiting.splice(0)) op(socket);
      },
      (error: Error) => this.#end(error.message, 1006),
    );
  }

  #context(): StageContext {
    const piped = this;
    return {
      emit: (value, key, transfer) => {
        if (!this.#done) this.#handlers.value?.(value, key, transfer);
      },
      send: (data) => {
        if (this.#done) return;
        const socket = this.#socket;
        if (typeof data === 'string') socket?.send(data, ignore);
        else if (isBytes(data)) socket?.send(asBytes(data), ignore);
      },
      close: (code = 1000, reason = '') => {
        if (!this.#done) this.close(code, reason);
      },
      socketTaskId: this.#frame.id,
      url: this.#frame.url,
      get protocol() {
        return piped.#protocol;
      },
    };
  }

  /** What the socket under the stage reports: messages to the stage, the rest on up. */
  #stageHandlers(): SocketHandlers {
    const up = this.#handlers;
    return {
      open: (header, protocol, connectEnd, again) => {
        this.#protocol = protocol;
        up.open(header, protocol, connectEnd, again);
        this.#call('open', { protocol });
      },
      message: (data) => {
        if (this.#done) return;
        up.received?.(data);
        this.#call('message', plain(data));
      },
      error: (errMsg, closeCode, status) => up.error(errMsg, closeCode, status),
      close: (code, reason) => {
        this.#call('close', { code, reason });
        this.#done = true;
        up.close(code, reason);
      },
      reconnect: (info) => {
        this.#call('close', { code: info.code, reason: info.reason });
        up.reconnect?.(info);
      },
      buffered: (bytes) => up.buffered?.(bytes),
      pong: () => up.pong?.(),
      credentials: up.credentials === undefined ? undefined : (attempt) => up.credentials?.(attempt) as never,
      holders: (count) => up.holders?.(count),
    };
  }

  /** Runs one of the stage's handlers; one that throws fails the connection with 1007. */
  #call<K extends 'message' | 'open' | 'close'>(name: K, arg: Parameters<NonNullable<Stage[K]>>[0]): void {
    const stage = this.#stage;
    if (stage === undefined || this.#done) return;
    try {
      (stage[name] as ((arg: unknown) => void) | undefined)?.call(stage, arg);
    } catch (error) {
      this.#fail(pipelineErrors.threw(this.#name, name, error));
    }
  }

  /** The stage failed: the task hears why and 1007, the server gets 1007 (a browser's: 1000). */
  #fail(errMsg: string): void {
    if (this.#done) return;
    this.#done = true;
    this.#handlers.error(errMsg, 1007);
    this.#socket?.close(1007, wireReason(errMsg));
  }

  /** The stage never started: the task hears why, then `code`. */
  #end(errMsg: string, code: number): void {
    if (this.#done) return;
    this.#done = true;
    for (const op of this.#waiting.splice(0)) op(closedSocket);
    this.#handlers.error(errMsg);
    this.#handlers.close(code, code === 1006 ? ABNORMAL_CLOSURE_REASON : '');
  }

  #later(op: (socket: HostSocket) => void): void {
    if (this.#socket !== undefined) op(this.#socket);
    else this.#waiting.push(op);
  }

  send(data: string | Uint8Array, done: SendDone): void {
    this.#later((socket) => socket.send(data, done));
  }

  /** `task.send({ data })` of a value: encoded by the stage's `send`. */
  sendValue(value: unknown, done: SendDone): void {
    this.#later((socket) => {
      const encode = this.#stage?.send;
      if (encode === undefined) return done(sendFailure(pipelineErrors.cannotSend(this.#name)));
      let encoded: unknown;
      try {
        encoded = encode.call(this.#stage, value);
      } catch (error) {
        // A handler that throws fails the connection; this send never went out.
        done(sendFailure(errors.sendAborted()));
        this.#fail(pipelineErrors.threw(this.#name, 'send', error));
        return;
      }
      if (typeof encoded === 'string') socket.send(encoded, done);
      else if (isBytes(encoded)) socket.send(asBytes(encoded), done);
      else done(sendFailure(pipelineErrors.badEncoding(this.#name)));
    });
  }

  close(code: number, reason: string): void {
    this.#later((socket) => socket.close(code, reason));
  }

  abort(): void {
    if (this.#socket === undefined && !this.#done) {
      // The stage is still loading: there is no connection to drop.
      this.#done = true;
      this.#waiting = [];
      this.#handlers.close(1006, '');
      return;
    }
    this.#socket?.abort();
  }

  get pause(): (() => void) | undefined {
    const socket = this.#socket;
    return socket?.pause === undefined ? undefined : () => socket.pause?.();
  }

  get resume(): (() => void) | undefined {
    const socket = this.#socket;
    return socket?.resume === undefined ? undefined : () => socket.resume?.();
  }

  get framesTaken(): number {
    return this.#socket?.framesTaken ?? 0;
  }

  page(event: PageFrame['event']): void {
    this.#later((socket) => socket.page?.(event));
  }
}

/** A socket that takes nothing: what waited for a stage that never started gets its failure. */
const closedSocket: HostSocket = {
  send: (_data, done) => done(sendFailure(errors.sendAborted())),
  close: () => {},
  abort: () => {},
};

/** A message as a stage receives it: a string, or an ArrayBuffer of its own. */
function plain(data: Received): string | ArrayBuffer {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return data;
  if (data instanceof Uint8Array) return copyToArrayBuffer(data);
  return new TextDecoder().decode(data.ascii);
}
