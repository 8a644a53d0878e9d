/** SocketTask: the facade of one socket. Holds no socket, only state mirrored from the host. */

import { copyToArrayBuffer, type Item } from '../shared/batch.js';
import { ABNORMAL_CLOSURE_REASON, DESTROY_REASON, errors, ok, staying } from '../shared/errors.js';
import type { Command, HostEvent, OpenEvent, ReconnectPolicy, ValueEvent } from '../shared/protocol.js';
import { backoffDelay } from '../shared/reconnect.js';
import { redactUrl } from '../shared/redact.js';
import { clearTimeout, queueMicrotask, setTimeout } from '../shared/timers.js';
import type {
  CloseSocketOption,
  OnCloseCallback,
  OnCloseResult,
  OnErrorCallback,
  OnErrorResult,
  OnMessageCallback,
  OnMessageResult,
  OnOpenCallback,
  OnOpenResult,
  OnReconnectCallback,
  ReadyState,
  SendSocketMessageOption,
  SocketData,
  SocketTask,
} from '../shared/types.js';
import { checkClose, checkSendData, isOptionsObject, utf8ByteLength } from '../shared/validate.js';
import { callbackReply, NO_REPLY, type Reply, safeCall, soon, UNHEARD } from './callbacks.js';

/** Results by event name. */
export interface EventResults {
  open: OnOpenResult;
  message: OnMessageResult;
  error: OnErrorResult;
  close: OnCloseResult;
}
export type EventName = keyof EventResults;

/**
 * `record[name]` for one of the four events, as a switch. A keyed load at a site that sees all
 * four names is megamorphic in V8 (a stub-cache lookup, a fair part of a small message's
 * main-thread cost: docs/performance.md); the switch folds away where `name` is a constant once
 * inlined.
 */
export function byEvent<R extends Record<EventName, unknown>, K extends EventName>(record: R, name: K): R[K] {
  switch (name as EventName) {
    case 'open':
      return record.open as R[K];
    case 'message':
      return record.message as R[K];
    case 'error':
      return record.error as R[K];
    default:
      return record.close as R[K];
  }
}

/** Where a task's commands go: the host client it was created on. */
export interface CommandSink {
  post(command: Command, transfer?: ArrayBuffer): void;
  send(id: number, data: string | Uint8Array | ArrayBuffer): void;
}

/** What a task tells the qq instance that made it. */
export interface TaskOwner {
  /** The task reached CLOSED: its connection slot is free. */
  released(task: SocketTaskImpl): void;
  /** Forwards an event to the global `qq.onSocket*` slot when the task is bound. */
  emitGlobal<K extends EventName>(name: K, task: SocketTaskImpl, result: EventResults[K]): void;
  /**
   * A task with `reconnect` whose host died: start it again on a fresh host, which takes the
   * death for the loss of the outage's retry `attempt`. Returns where its commands go now.
   */
  revive(task: SocketTaskImpl, resume: { attempt: number; opened: boolean }): CommandSink | undefined;
}

/** Where an attempt connects, as the facade answers the host: the url and headers, or why not. */
export type DialAnswer = { url: string; headers: Record<string, string> } | { errMsg: string };

/** A task with `reconnect`: how it answers the host before each attempt (url or header functions). */
export interface Lasting {
  dial: (() => Promise<DialAnswer>) | undefined;
  /** The task's `reconnect`, with its defaults. */
  policy: ReconnectPolicy;
}

/**
 * Where a task's commands wait while it has no host (the last died; a fresh one starts after
 * the backoff): in call order, views copied as the client would copy them.
 */
class HeldCommands implements CommandSink {
  readonly #held: Array<(sink: CommandSink) => void> = [];
  post(command: Command, transfer?: ArrayBuffer): void {
    this.#held.push((sink) => sink.post(command, transfer));
  }
  send(id: number, data: string | Uint8Array | ArrayBuffer): void {
    const own = data instanceof Uint8Array ? data.slice() : data;
    this.#held.push((sink) => sink.send(id, own));
  }
  replay(sink: CommandSink): void {
    for (const command of this.#held.splice(0)) command(sink);
  }
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/**
 * Moves a buffer: detaches the caller's and returns one with its memory. A runtime with neither
 * structuredClone nor ArrayBuffer.prototype.transfer (a DOM emulation on an older engine) gets a
 * copy, and the caller's buffer stays as it was.
 */
function moveBuffer(buffer: ArrayBuffer): ArrayBuffer {
  if (typeof structuredClone === 'function') return structuredClone(buffer, { transfer: [buffer] });
  const transfer = (buffer as { transfer?: () => ArrayBuffer }).transfer;
  return typeof transfer === 'function' ? transfer.call(buffer) : buffer.slice(0);
}

/**
 * What to post for one send: text; a view of the caller's bytes (the client copies them at once);
 * or, with `transfer`, the caller's buffer moved (detached before send returns). A moved view
 * that does not span its whole buffer travels as a range of the moved buffer.
 */
function prepare(
  data: SocketData,
  move: boolean,
): { post: string | Uint8Array | ArrayBuffer; range?: [number, number]; bytes: number } {
  if (typeof data === 'string') return { post: data, bytes: utf8ByteLength(data) };
  const view = ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
  const { byteOffset, byteLength: bytes } = view; // read before moving: a detached view reports 0
  if (!move || !(view.buffer instanceof ArrayBuffer)) return { post: view, bytes };
  const moved = moveBuffer(view.buffer);
  if (byteOffset === 0 && bytes === moved.byteLength) return { post: moved, bytes };
  return { post: moved, range: [byteOffset, bytes], bytes };
}

/** Whether the buffer behind `data` was detached (transferred away); slicing it would throw. */
function isDetached(data: SocketData): boolean {
  if (typeof data === 'string') return false;
  try {
    new Uint8Array(ArrayBuffer.isView(data) ? data.buffer : data, 0, 0);
    return false;
  } catch {
    return true;
  }
}

export class SocketTaskImpl implements SocketTask {
  readonly #id: number;
  #url: string;
  /** `reconnect`: the task outlives its connections (undefined: it does not). */
  readonly #lasting: Lasting | undefined;
  /** The retry of the current outage that onReconnect last announced (0: none since open). */
  #outage = 0;
  /** A connection of this task has opened. */
  #opened = false;
  /** The wait before a fresh host, after the task's host died (`reconnect`). */
  #revival: ReturnType<typeof setTimeout> | undefined;
  /** `pipeline`: the task's messages are its stage's values (`frame`: `deliver: 'frame'`). */
  readonly #piped: { frame: boolean } | undefined;
  /** The host will be told the page took the values it delivered, and how many. */
  #tookQueued = false;
  #tookValues = 0;
  #tookUnkeyed = 0;
  readonly #reconnectListeners = new Set<OnReconnectCallback>();
  /** Sends the socket took, and their bytes (stats). */
  #messagesOut = 0;
  #bytesOut = 0;

  #state: ReadyState;
  #protocol = '';
  #buffered = 0;
  /** What the socket itself still buffers of the sends it took (a browser's WebSocket). */
  #socketBuffered = 0;
  #sink: CommandSink | undefined;
  readonly #owner: TaskOwner | undefined;
  readonly #listeners: { [K in EventName]: Set<(result: EventResults[K]) => void> } = {
    open: new Set(),
    message: new Set(),
    error: new Set(),
    close: new Set(),
  };
  /** Sends in call order; settled from the head as the host acknowledges them. */
  #pendingReplies: Reply[] = [];
  /** Each pending send's size, for bufferedAmount (two arrays: no object per send). */
  #pendingBytes: number[] = [];
  #pendingHead = 0;
  /** Set by close() during CONNECTING: the close wins over whatever the handshake does. */
  #abort: { code: number; reason: string } | undefined;

  /**
   * A task with no sink starts CLOSED: the one connectSocket returns for a parameter error.
   */
  constructor(
    id: number,
    url: string,
    sink?: CommandSink,
    owner?: TaskOwner,
    lasting?: Lasting,
    piped?: { frame: boolean },
  ) {
    this.#id = id;
    this.#url = url;
    this.#sink = sink;
    this.#owner = owner;
    this.#lasting = lasting;
    this.#piped = piped;
    this.#state = sink === undefined ? CLOSED : CONNECTING;
  }

  /** What this thread counts of the task (stats: the host counts the rest). */
  stats() {
    return {
      socketTaskId: this.#id,
      url: redactUrl(this.#url),
      readyState: this.#state,
      messagesOut: this.#messagesOut,
      bytesOut: this.#bytesOut,
      sendsWaiting: this.#pendingReplies.length - this.#pendingHead,
      bufferedAmount: this.bufferedAmount,
    };
  }

  // Read-only, as a WebSocket's are: getters (on the prototype), so an assignment throws in
  // strict code and changes nothing in sloppy code.
  get CONNECTING(): typeof CONNECTING {
    return CONNECTING;
  }
  get OPEN(): typeof OPEN {
    return OPEN;
  }
  get CLOSING(): typeof CLOSING {
    return CLOSING;
  }
  get CLOSED(): typeof CLOSED {
    return CLOSED;
  }
  get socketTaskId(): number {
    return this.#id;
  }
  get url(): string {
    return this.#url;
  }
  get readyState(): ReadyState {
    return this.#state;
  }
  get bufferedAmount(): number {
    return this.#buffered + this.#socketBuffered;
  }
  get protocol(): string {
    return this.#protocol;
  }

  onOpen(callback: OnOpenCallback): void {
    this.#on('open', callback);
  }
  onMessage(callback: OnMessageCallback): void {
    this.#on('message', callback);
  }
  onError(callback: OnErrorCallback): void {
    this.#on('error', callback);
  }
  onClose(callback: OnCloseCallback): void {
    this.#on('close', callback);
  }
  offOpen(callback: OnOpenCallback): void {
    this.#listeners.open.delete(callback);
  }
  offMessage(callback: OnMessageCallback): void {
    this.#listeners.message.delete(callback);
  }
  offError(callback: OnErrorCallback): void {
    this.#listeners.error.delete(callback);
  }
  offClose(callback: OnCloseCallback): void {
    this.#listeners.close.delete(callback);
  }
  onReconnect(callback: OnReconnectCallback): void {
    if (typeof callback !== 'function') {
      console.error('qq-socket-worker: SocketTask.onReconnect needs a function');
      return;
    }
    this.#reconnectListeners.add(callback);
  }
  offReconnect(callback: OnReconnectCallback): void {
    this.#reconnectListeners.delete(callback);
  }

  #on<K extends EventName>(name: K, callback: (result: EventResults[K]) => void): void {
    if (typeof callback !== 'function') {
      console.error(`qq-socket-worker: SocketTask.on${name[0]?.toUpperCase()}${name.slice(1)} needs a function`);
      return;
    }
    this.#listeners[name].add(callback);
  }

  send(option: SendSocketMessageOption): void {
    this.sendWith(option, callbackReply(option), errors.taskNotOpen());
  }

  /**
   * The send shared by `task.send` and `qq.sendSocketMessage`; they differ only in how they
   * reply and in the not-OPEN errMsg.
   */
  sendWith(option: unknown, reply: Reply, notOpenErrMsg: string): void {
    if (!isOptionsObject(option)) {
      soon(() => reply.fail(errors.parameterNotObject('sendSocketMessage', option)));
      return;
    }
    const checked = checkSendData(option.data);
    if (!checked.ok && this.#piped !== undefined) {
      this.#sendValue(option.data, reply, notOpenErrMsg);
      return;
    }
    if (!checked.ok) {
      soon(() => reply.fail(checked.errMsg));
      return;
    }
    // With `reconnect`, a send while CONNECTING waits for the connection (in the host).
    const state = this.#state;
    if ((state !== OPEN && (state !== CONNECTING || this.#lasting === undefined)) || this.#sink === undefined) {
      soon(() => reply.fail(notOpenErrMsg));
      return;
    }
    if (isDetached(checked.value)) {
      soon(() => reply.fail(errors.dataDetached()));
      return;
    }
    if (state === CONNECTING) {
      // Waiting for a connection: the queue's bound is checked here, so that a send refused
      // fails at once (the host checks it too, for what it held when this thread saw OPEN).
      const size = typeof checked.value === 'string' ? utf8ByteLength(checked.value) : checked.value.byteLength;
      const { queue } = (this.#lasting as Lasting).policy;
      if (this.#buffered + size > queue) {
        soon(() => reply.fail(errors.sendQueueFull(queue)));
        return;
      }
    }
    const { post, range, bytes } = prepare(checked.value, option.transfer === true);
    this.#pendingReplies.push(reply === UNHEARD ? NO_REPLY : reply);
    this.#pendingBytes.push(bytes);
    this.#buffered += bytes;
    if (range === undefined) {
      this.#sink.send(this.#id, post);
    } else {
      const data = post as ArrayBuffer;
      this.#sink.post({ type: 'send-range', id: this.#id, data, offset: range[0], length: range[1] }, data);
    }
  }

  close(option?: CloseSocketOption): void {
    this.closeWith(option, callbackReply(option), errors.notConnected('closeSocket'));
  }

  /** The close shared by `task.close` and `qq.closeSocket`. */
  closeWith(option: unknown, reply: Reply, notConnectedErrMsg: string): void {
    if (option !== undefined && !isOptionsObject(option)) {
      soon(() => reply.fail(errors.parameterNotObject('closeSocket', option)));
      return;
    }
    const checked = checkClose(option ?? {});
    if (!checked.ok) {
      soon(() => reply.fail(checked.errMsg));
      return;
    }
    if ((this.#state !== CONNECTING && this.#state !== OPEN) || this.#sink === undefined) {
      soon(() => reply.fail(notConnectedErrMsg));
      return;
    }
    const { code, reason } = checked.value;
    if (this.#state === CONNECTING) this.#abort = { code, reason };
    soon(() => reply.ok({ errMsg: ok('closeSocket') }));
    if (this.#revival !== undefined) {
      // Waiting for a fresh host after the last died: there is nothing to close but the wait.
      clearTimeout(this.#revival);
      this.#revival = undefined;
      soon(() => this.#finish(code, reason));
      return;
    }
    this.#state = CLOSING;
    this.#sink.post({ type: 'close', id: this.#id, code, reason });
  }

  /**
   * With a pipeline, a send of what is not a string or bytes: the value goes to the host, where
   * the stage's `send` encodes it. It is cloned here, so that one that cannot be fails now.
   */
  #sendValue(value: unknown, reply: Reply, notOpenErrMsg: string): void {
    const state = this.#state;
    if ((state !== OPEN && (state !== CONNECTING || this.#lasting === undefined)) || this.#sink === undefined) {
      soon(() => reply.fail(notOpenErrMsg));
      return;
    }
    let copy: unknown;
    try {
      copy = structuredClone(value);
    } catch (error) {
      soon(() => reply.fail(errors.dataNotCloneable(String((error as Error)?.message ?? error))));
      return;
    }
    this.#pendingReplies.push(reply === UNHEARD ? NO_REPLY : reply);
    this.#pendingBytes.push(0);
    this.#sink.post({ type: 'send-value', id: this.#id, value: copy });
  }

  /**
   * A value of the task's stage: an onMessage event. The host hands the next batch of values
   * only once the page took this one: it is told so at the end of this batch's dispatch, or at
   * the next animation frame with `deliver: 'frame'`.
   */
  #value(event: ValueEvent): void {
    if (this.#abort !== undefined || this.#state === CLOSED) return;
    const result: OnMessageResult = { data: event.value as string };
    if (event.key !== undefined) {
      result.key = event.key;
      result.skipped = event.skipped ?? 0;
    }
    this.#emit('message', result);
    this.#tookValues++;
    if (event.key === undefined) this.#tookUnkeyed++;
    if (this.#tookQueued) return;
    this.#tookQueued = true;
    if (this.#piped?.frame === true) requestFrame(this.#sendTook);
    else queueMicrotask(this.#sendTook);
  }

  /** Tells the host how many values the page took since the last time (their credit). */
  #sendTook = (): void => {
    this.#tookQueued = false;
    const values = this.#tookValues;
    const unkeyed = this.#tookUnkeyed;
    this.#tookValues = 0;
    this.#tookUnkeyed = 0;
    if (values > 0 && this.#state !== CLOSED) this.#sink?.post({ type: 'took', id: this.#id, values, unkeyed });
  };

  /** A message from the host; slab bytes become an ArrayBuffer of exactly the message's bytes. */
  message(data: Item): void {
    if (this.#abort !== undefined || this.#state === CLOSED) return;
    this.#emit('message', { data: data instanceof Uint8Array ? copyToArrayBuffer(data) : data });
  }

  /** Applies one event from the host. */
  deliver(event: HostEvent): void {
    switch (event.type) {
      case 'open': {
        if (this.#state !== CONNECTING) return; // close() during CONNECTING wins
        this.#state = OPEN;
        this.#protocol = event.protocol;
        this.#outage = 0;
        this.#opened = true;
        const result: OnOpenResult = { header: event.header, profile: toProfile(event.profile) };
        if (event.reconnected === true) result.reconnected = true;
        if (event.attempt !== undefined) result.attempt = event.attempt;
        this.#emit('open', result);
        return;
      }
      case 'reconnect': {
        // After close() the task is on its way out: the host ends it rather than retry.
        if (this.#abort !== undefined || this.#state === CLOSING || this.#state === CLOSED) return;
        this.#state = CONNECTING;
        this.#socketBuffered = 0; // that connection's buffer is gone
        this.#outage = event.attempt;
        const { attempt, delay, code, reason, errMsg } = event;
        for (const listener of [...this.#reconnectListeners])
          safeCall(listener, { attempt, delay, code, reason, errMsg });
        return;
      }
      case 'dial':
        void this.#answerDial();
        return;
      case 'log':
        return; // the client hands entries to the instance's log
      case 'value':
        this.#value(event);
        return;
      case 'error':
        if (this.#abort !== undefined || this.#state === CLOSED) return;
        this.#emit('error', { errMsg: event.errMsg });
        return;
      case 'close':
        this.#finish(event.code, event.reason);
        return;
      case 'sent':
        this.#settleSends(event.count, event.errMsg);
        return;
      case 'buffered':
        if (this.#state !== CLOSED) this.#socketBuffered = event.bytes;
        return;
      case 'ended':
      case 'restored':
        return; // the client's, not a task's
      default:
        event satisfies never;
    }
  }

  /** Where this attempt connects: the url and header functions are called here, on this thread. */
  async #answerDial(): Promise<void> {
    const dial = this.#lasting?.dial;
    const answer: DialAnswer = dial === undefined ? { errMsg: errors.sendAborted() } : await dial();
    if ('url' in answer) this.#url = answer.url;
    this.#sink?.post({ type: 'dial', id: this.#id, ...answer });
  }

  /** The host went away without closing this socket. */
  hostDied(errMsg: string): void {
    if (this.#state === CLOSED) return;
    const lasting = this.#lasting;
    if (lasting !== undefined && this.#abort === undefined && this.#state !== CLOSING) {
      // A loss like any other, retried on a fresh host after the backoff, waited here: the host
      // is gone, and a host that cannot start at all must not be retried in a tight loop.
      // What was sent may or may not have reached a socket: at most once, so those fail.
      this.#socketBuffered = 0;
      this.#settleSends(this.#pendingReplies.length - this.#pendingHead, errors.sendAborted());
      const attempt = ++this.#outage;
      if (attempt > lasting.policy.retries) {
        this.#emit('error', { errMsg: staying.gaveUp(attempt - 1, errMsg) });
        this.#finish(1006, ABNORMAL_CLOSURE_REASON);
        return;
      }
      const delay = backoffDelay(lasting.policy, attempt);
      this.#state = CONNECTING;
      const held = new HeldCommands();
      this.#sink = held;
      // The dead host's values: the next host never sent them.
      this.#tookValues = 0;
      this.#tookUnkeyed = 0;
      const info = { attempt, delay, code: 1006, reason: ABNORMAL_CLOSURE_REASON, errMsg };
      for (const listener of [...this.#reconnectListeners]) safeCall(listener, { ...info });
      this.#revival = setTimeout(() => {
        this.#revival = undefined;
        const sink = this.#owner?.revive(this, { attempt, opened: this.#opened });
        if (sink === undefined) return this.#finish(1001, DESTROY_REASON); // destroyed meanwhile
        this.#sink = sink;
        held.replay(sink);
      }, delay);
      return;
    }
    if (this.#abort === undefined) this.#emit('error', { errMsg });
    this.#finish(1006, ABNORMAL_CLOSURE_REASON);
  }

  /**
   * The instance was destroyed while this task waited for a fresh host (its last died): it
   * closes as the host would have closed it.
   */
  destroyed(): void {
    if (this.#revival === undefined) return; // its host closes it
    clearTimeout(this.#revival);
    this.#revival = undefined;
    this.#finish(1001, DESTROY_REASON);
  }

  #finish(code: number, reason: string): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#socketBuffered = 0; // what the socket held will not go out now
    this.#settleSends(this.#pendingReplies.length - this.#pendingHead, errors.sendAborted());
    this.#owner?.released(this);
    this.#emit('close', this.#abort ?? { code, reason });
  }

  #settleSends(count: number, errMsg: string | undefined): void {
    // The fields are read afresh on each turn of the loop, as a callback may send meanwhile.
    for (let i = 0; i < count && this.#pendingHead < this.#pendingReplies.length; i++) {
      const reply = this.#pendingReplies[this.#pendingHead] as Reply;
      this.#pendingReplies[this.#pendingHead] = NO_REPLY; // released as soon as it is settled
      this.#buffered -= this.#pendingBytes[this.#pendingHead++] as number;
      if (errMsg === undefined) {
        this.#messagesOut++;
        this.#bytesOut += this.#pendingBytes[this.#pendingHead - 1] as number;
      }
      if (reply === NO_REPLY) continue;
      if (errMsg === undefined) reply.ok({ errMsg: ok('sendSocketMessage') });
      else reply.fail(errMsg);
    }
    if (this.#pendingHead === this.#pendingReplies.length) {
      this.#pendingReplies = [];
      this.#pendingBytes = [];
      this.#pendingHead = 0;
    }
  }

  #emit<K extends EventName>(name: K, result: EventResults[K]): void {
    const listeners = byEvent(this.#listeners, name);
    if (listeners.size === 1) {
      for (const listener of listeners) safeCall(listener, result);
    } else if (listeners.size > 1) {
      for (const listener of [...listeners]) safeCall(listener, result);
    }
    this.#owner?.emitGlobal(name, this, result);
  }
}

/** Host timestamps (absolute ms) to the spec's profile on this thread's performance clock. */
function toProfile(p: OpenEvent['profile']): OnOpenResult['profile'] {
  const origin = performance.timeOrigin;
  const connectEnd = p.connectEnd > 0 ? p.connectEnd : p.connectStart;
  return {
    connectStart: p.connectStart - origin,
    connectEnd: connectEnd - origin,
    handshakeCost: p.handshakeEnd - connectEnd,
    cost: p.handshakeEnd - p.connectStart,
  };
}

/**
 * Runs `fn` at the next animation frame (`deliver: 'frame'`), or after this turn where there are
 * no frames (a worker, Node).
 */
function requestFrame(fn: () => void): void {
  const raf = (globalThis as { requestAnimationFrame?: (fn: () => void) => unknown }).requestAnimationFrame;
  if (typeof raf === 'function') raf(fn);
  else setTimeout(fn, 0);
}
