/**
 * The socket host: owns every socket of one facade. Runtime-neutral: a {@link SocketFactory}
 * adapts the runtime's WebSocket (ws on Node, the native one in browsers).
 */

import { type Batch, type Item, isBatch, readBatch } from '../shared/batch.js';
import {
  ABNORMAL_CLOSURE_REASON,
  CONNECTION_LOST,
  DESTROY_REASON,
  errors,
  fellBehind,
  pipelineErrors,
  staying,
  undeliverable,
} from '../shared/errors.js';
import type {
  Command,
  ConnectFrame,
  DialFrame,
  HostConfig,
  HostEvent,
  HostStats,
  HostTaskStats,
  PageFrame,
} from '../shared/protocol.js';
import { redactUrl, redactUrls } from '../shared/redact.js';
import { type Clock, MAX_TIMER_MS } from '../shared/timers.js';
import type { LogEvent, LogLevel } from '../shared/types.js';
import { FlowControl, OVERRUN_BYTES, OVERRUN_ITEMS, type Pausable } from './flow-control.js';
import { Outbox, type PostBatch, type Scheduler } from './outbox.js';
import type {
  Credentials,
  HostSocket,
  Received,
  ReconnectInfo,
  SendDone,
  SocketFactory,
  SocketHandlers,
} from './socket.js';

/** What a pipeline's value weighs in flow control (its size is not known before it is cloned). */
const VALUE_COST = 64;

/** A pipeline's value waiting for the page. */
interface ValueEntry {
  value: unknown;
  key: string | undefined;
  transfer: ArrayBuffer[] | undefined;
  skipped: number;
}

/** Log levels from the least: an entry goes out when its level reaches the facade's. */
const LEVELS: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2 };

/** How long `shutdown` waits for closing handshakes before dropping connections. */
const SHUTDOWN_GRACE_MS = 1000;

/** The runtime pieces a host needs. */
export interface HostRuntime {
  factory: SocketFactory;
  post: PostBatch;
  schedule: Scheduler;
  /** Where a large batch waits once before it goes (Outbox); none: it goes at `schedule`. */
  later?: Scheduler;
  clock: Clock;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/*
 * One connection's states, as the host sees them:
 *
 *   connecting ──open──▶ open ──close / server close──▶ closing ──▶ closed
 *     ▲  │                 │                                         ▲
 *     │  └── close, timeout, failure ──────────────────────────────────┘
 *     └──── reconnect (a socket with `reconnect` lost its connection) ◀── open
 *
 * `closed` is reached exactly once and emits the task's last event.
 */
type State = 'connecting' | 'open' | 'closing' | 'closed';

class Connection implements SocketHandlers, Pausable {
  state: State = 'connecting';
  readonly #host: Host;
  readonly #id: number;
  #connectStart: number;
  #socket: HostSocket | undefined;
  #timer: unknown;
  #shutdownTimer: unknown;
  #errored = false;
  /**
   * Nothing more is delivered to the facade: it fell too far behind a socket that cannot pause,
   * or a batch of this task's events could not be posted.
   */
  #stopped = false;
  /** The close event to report whatever the socket says (our abort, our protocol-error frame). */
  #override: { code: number; reason?: string } | undefined;
  /** The url as a log entry or stats may show it: no user, password or query. */
  #url: string;
  readonly #durable: boolean;
  /** The answer to the host's question about where the next attempt connects. */
  #dialed: ((answer: Credentials) => void) | undefined;
  /** Counters for stats. */
  #messagesIn = 0;
  #bytesIn = 0;
  #pausedMs = 0;
  #pausedAt: number | undefined;
  #holders = 1;
  /** The task's stage (pipeline.ts), for its errMsgs. */
  readonly #pipeline: string | undefined;
  /**
   * A pipeline's values that wait for the page, in the order of each one's first emission since
   * its last delivery; keyed ones also by key, so that a newer value replaces the one waiting.
   */
  #values: ValueEntry[] = [];
  readonly #keyed = new Map<string, ValueEntry>();
  /** Values posted that the page has not said it took: keyed ones wait while there are any. */
  #valuesOut = 0;
  /** `deliver: 'frame'`: every value waits while any is out (one batch a frame). */
  readonly #frame: boolean;
  /**
   * Unkeyed values counted in the flow-control window and not yet credited back (by the page's
   * `took`): what is left is credited when the connection closes, as the page of a closed task
   * says nothing more.
   */
  #charged = 0;

  constructor(host: Host, frame: ConnectFrame) {
    this.#host = host;
    this.#id = frame.id;
    this.#connectStart = host.runtime.clock();
    this.#url = frame.dynamic === true ? '' : redactUrl(frame.url);
    this.#durable = frame.reconnect !== undefined;
    this.#pipeline = frame.pipeline;
    this.#frame = frame.deliver === 'frame';
  }

  /** Adds a log entry for this task if the facade wants its level (HostConfig.log). */
  #log(level: LogLevel, event: LogEvent, message: string): void {
    const host = this.#host;
    if (LEVELS[level] < host.logLevel) return;
    host.outbox.push({ type: 'log', id: this.#id, level, time: host.runtime.clock(), event, message });
  }

  stats(): HostTaskStats {
    const paused = this.#pausedAt === undefined ? 0 : this.#host.runtime.clock() - this.#pausedAt;
    return {
      id: this.#id,
      messagesIn: this.#messagesIn,
      bytesIn: this.#bytesIn,
      pausedMs: this.#pausedMs + paused,
      holders: this.#holders,
    };
  }

  get framesTaken(): number {
    return this.#socket?.framesTaken ?? 0;
  }

  /** Opens the socket. Separate from the constructor: a factory may report failure synchronously. */
  start(frame: ConnectFrame): void {
    const host = this.#host;
    // With `reconnect`, each attempt has its own timeout (reconnect.ts).
    if (frame.timeout > 0 && frame.timeout <= MAX_TIMER_MS && !this.#durable) {
      this.#timer = host.runtime.setTimer(this.#onTimeout, frame.timeout);
    }
    if (frame.dynamic !== true) this.#log('info', 'connect', `connect ${this.#url}${frame.share ? ' (shared)' : ''}`);
    try {
      this.#socket = host.runtime.factory(frame, host.config, this);
      if (!host.online) this.#socket.page?.('offline');
    } catch (error) {
      this.error(String((error as Error)?.message ?? error));
      this.close(1006, '');
    }
  }

  open(
    header: Record<string, string>,
    protocol: string,
    connectEnd: number,
    again?: { attempt: number; reconnected: boolean },
  ): void {
    if (this.state !== 'connecting') return;
    this.state = 'open';
    this.#host.runtime.clearTimer(this.#timer);
    const handshakeEnd = this.#host.runtime.clock();
    this.#host.outbox.push({
      type: 'open',
      id: this.#id,
      header,
      protocol,
      profile: { connectStart: this.#connectStart, connectEnd, handshakeEnd },
      ...again,
    });
    const retry = again === undefined ? '' : ` (retry ${again.attempt})`;
    this.#log('info', 'open', `open ${this.#url}${protocol === '' ? '' : ` (protocol ${protocol})`}${retry}`);
  }

  message(data: Received): void {
    if (this.state === 'closed' || this.#stopped) return;
    const cost = this.#host.outbox.message(this.#id, data);
    this.#messagesIn++;
    this.#bytesIn += cost;
    this.#host.flow.delivered(cost, this);
  }

  /**
   * A value of the task's stage. Unkeyed ones are delivered, in order, under flow control as
   * messages are; a keyed one replaces the waiting value of its key (no flow control: what waits
   * is bounded by the keys). Values wait here, where a key can still replace them, until the
   * page took the previous batch.
   */
  value(value: unknown, key: string | undefined, transfer: ArrayBuffer[] | undefined): void {
    if (this.state === 'closed' || this.#stopped) return;
    if (key === undefined) {
      this.#values.push({ value, key, transfer, skipped: 0 });
      this.#charged++;
      this.#host.flow.delivered(VALUE_COST, this);
    } else {
      const waiting = this.#keyed.get(key);
      if (waiting !== undefined) {
        waiting.value = value;
        waiting.transfer = transfer;
        waiting.skipped++;
      } else {
        const entry: ValueEntry = { value, key, transfer, skipped: 0 };
        this.#values.push(entry);
        this.#keyed.set(key, entry);
      }
    }
    if (this.#mayOffer()) this.#host.offer(this);
  }

  /**
   * Whether the values waiting may go now: always while the page has taken every value posted;
   * otherwise only while none of them is keyed (a keyed value waits here, where a newer one of
   * its key can still replace it; unkeyed ones flow as messages do, under flow control), and
   * never with `deliver: 'frame'` (the page takes one batch a frame).
   */
  #mayOffer(): boolean {
    return this.#valuesOut === 0 || (!this.#frame && this.#keyed.size === 0);
  }

  /** A message went to the task's stage (stats count it as the page's would be). */
  received(data: Received): void {
    this.#messagesIn++;
    this.#bytesIn +=
      typeof data === 'string'
        ? data.length
        : data instanceof ArrayBuffer || data instanceof Uint8Array
          ? data.byteLength
          : data.ascii.byteLength;
  }

  /** The outbox gathers: the values waiting go if they may ({@link #mayOffer}; `force`: now). */
  offerValues(force = false): void {
    if ((!force && !this.#mayOffer()) || this.#values.length === 0) return;
    const outbox = this.#host.outbox;
    for (const { value, key, transfer, skipped } of this.#values) {
      if (key === undefined) outbox.push({ type: 'value', id: this.#id, value }, transfer);
      else outbox.push({ type: 'value', id: this.#id, value, key, skipped }, transfer);
    }
    this.#valuesOut += this.#values.length;
    this.#values = [];
    this.#keyed.clear();
  }

  /** The page dispatched `values` values, `unkeyed` of them without a key (their credit). */
  took(values: number, unkeyed: number): void {
    this.#valuesOut = Math.max(0, this.#valuesOut - values);
    this.#credit(unkeyed);
    if (this.#values.length > 0 && this.#mayOffer()) this.#host.offer(this);
  }

  /** Credits back up to `unkeyed` of the unkeyed values this connection counted in the window. */
  #credit(unkeyed: number): void {
    const items = Math.min(unkeyed, this.#charged);
    if (items === 0) return;
    this.#charged -= items;
    this.#host.flow.credit(items * VALUE_COST, items);
  }

  /** A value of this task's stage could not be posted (a DataCloneError): the stage failed. */
  valueFailed(error: unknown): void {
    if (this.state === 'closed') return;
    this.error(pipelineErrors.threw(this.#pipeline ?? '', 'message', error), 1007);
    this.#values = [];
    this.#keyed.clear();
    this.state = 'closing';
    this.#socket?.close(1007, 'pipeline failed');
  }

  /** `task.send({ data })` of a value, for the stage to encode. */
  sendValue(value: unknown): void {
    const open = this.state === 'open' || (this.#durable && this.state === 'connecting');
    if (!open || this.#socket?.sendValue === undefined) {
      this.#host.outbox.ack(this.#id, errors.sendAborted());
      return;
    }
    this.#socket.sendValue(value, this.#sent);
  }

  /** A reconnecting socket lost its connection; the task is CONNECTING until the next open. */
  reconnect(info: ReconnectInfo): void {
    if (this.state === 'closed' || this.#stopped || this.#override !== undefined) return;
    this.offerValues(true); // what the stage emitted before the loss comes before the event
    this.state = 'connecting';
    this.#connectStart = this.#host.runtime.clock();
    this.#host.outbox.push({ type: 'reconnect', id: this.#id, ...info });
    const { attempt, delay, code } = info;
    const errMsg = redactUrls(info.errMsg);
    this.#log('info', 'reconnect', `retry ${attempt} in ${delay} ms: ${code} ${errMsg}`);
  }

  /** Asks the facade where attempt `attempt` connects (its url or header functions). */
  credentials(attempt: number): Promise<Credentials> {
    this.#dialed?.({ errMsg: errors.sendAborted() }); // an older question is moot
    this.#host.outbox.push({ type: 'dial', id: this.#id, attempt });
    return new Promise((resolve) => {
      this.#dialed = resolve;
    });
  }

  /** The facade's answer to {@link credentials}. */
  dialed(frame: DialFrame): void {
    const answer = this.#dialed;
    this.#dialed = undefined;
    if (answer === undefined) return;
    if (frame.errMsg !== undefined || frame.url === undefined) answer({ errMsg: frame.errMsg ?? errors.dataType() });
    else {
      this.#url = redactUrl(frame.url);
      this.#log('info', 'connect', `connect ${this.#url}`);
      answer({ url: frame.url, headers: frame.headers ?? {} });
    }
  }

  holders(count: number): void {
    this.#holders = count;
    this.#log('debug', 'share', `the shared socket has ${count} holder${count === 1 ? '' : 's'}`);
  }

  page(event: PageFrame['event']): void {
    // Back from the back/forward cache: the browser closed this socket meanwhile, whether or not
    // its close event has come yet (with `reconnect`, the socket reconnects: reconnect.ts).
    if (event === 'shown' && !this.#durable && (this.state === 'open' || this.state === 'connecting')) {
      this.#drop(staying.backForwardCache());
      return;
    }
    this.#socket?.page?.(event);
  }

  get canPause(): boolean {
    return this.#socket?.pause !== undefined;
  }

  pause(): void {
    this.#socket?.pause?.();
    this.#pausedAt = this.#host.runtime.clock();
    this.#log('debug', 'pause', 'paused reading: the page is behind');
  }

  resume(): void {
    this.#socket?.resume?.();
    if (this.#pausedAt === undefined) return;
    const ms = this.#host.runtime.clock() - this.#pausedAt;
    this.#pausedMs += ms;
    this.#pausedAt = undefined;
    this.#log('debug', 'resume', `resumed reading after ${Math.round(ms)} ms`);
  }

  /** Flow control: the facade stopped taking messages that this socket cannot stop reading. */
  overrun(): void {
    this.#stopDelivering(fellBehind(OVERRUN_ITEMS, OVERRUN_BYTES / (1024 * 1024)));
  }

  /** Events of this task were lost on their way to the facade: it hears so, and closes. */
  lost(errMsg: string): void {
    this.#stopDelivering(errMsg);
  }

  #stopDelivering(errMsg: string): void {
    if (this.state === 'closed' || this.#stopped) return;
    this.#stopped = true;
    this.#drop(errMsg);
  }

  error(errMsg: string, closeCode?: number): void {
    if (this.state === 'closed' || this.#errored || this.#override !== undefined) return;
    if (closeCode !== undefined) this.#override = { code: closeCode };
    this.#report(errMsg);
  }

  /** The task's onError. */
  #report(errMsg: string): void {
    if (!this.#stopped) this.offerValues(true); // what was emitted before comes before the error
    this.#errored = true;
    this.#host.outbox.push({ type: 'error', id: this.#id, errMsg });
    this.#log('info', 'error', `error: ${redactUrls(errMsg)}`);
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.#host.runtime.clearTimer(this.#timer);
    this.#host.runtime.clearTimer(this.#shutdownTimer);
    let event = { code, reason };
    if (this.#override !== undefined) {
      event = { code: this.#override.code, reason: this.#override.reason ?? '' };
    } else if (code === 1006) {
      // Spec: a drop without a close frame is onError, then onClose 1006 "abnormal closure".
      if (!this.#errored) this.#report(CONNECTION_LOST);
      event = { code, reason: ABNORMAL_CLOSURE_REASON };
    }
    this.#dialed?.({ errMsg: errors.sendAborted() });
    this.#dialed = undefined;
    if (!this.#stopped) this.offerValues(true); // every value emitted before the close, first
    if (this.#pausedAt !== undefined) this.resume();
    this.#log('info', 'close', `close ${event.code}${event.reason === '' ? '' : ` ${event.reason}`}`);
    this.#host.outbox.push({ type: 'close', id: this.#id, ...event });
    this.#credit(this.#charged); // values that were dropped, or that the page took unheard
    this.#host.flow.release(this);
    this.#host.forget(this.#id);
  }

  send(payload: string | Uint8Array): void {
    const outbox = this.#host.outbox;
    // With `reconnect`, the socket keeps what is sent between connections (reconnect.ts).
    const open = this.state === 'open' || (this.#durable && this.state === 'connecting');
    if (!open || this.#socket === undefined) {
      outbox.ack(this.#id, errors.sendAborted());
      return;
    }
    this.#socket.send(payload, this.#sent);
  }

  buffered(bytes: number): void {
    if (this.state === 'open' || this.state === 'closing') this.#host.outbox.buffered(this.#id, bytes);
  }

  /** A send's outcome (one function for all of them: no closure per send). */
  #sent: SendDone = (error) => {
    this.#host.outbox.ack(this.#id, error ? (error.errMsg ?? errors.sendAborted()) : undefined);
  };

  /** The facade's close(): a handshake in progress is aborted and reports the requested code. */
  requestClose(code: number, reason: string): void {
    this.#host.flow.release(this); // the closing handshake must be read
    if (this.state === 'connecting') {
      this.#override = { code, reason };
      this.state = 'closing';
      this.#socket?.abort();
    } else if (this.state === 'open') {
      this.state = 'closing';
      this.#socket?.close(code, reason);
    }
  }

  /**
   * Shutdown: close with 1001, and drop the connection if the peer does not answer in time. The
   * task hears 1001 whatever the peer echoes (a browser may only send 1000 in its place).
   */
  shutdown(reason = DESTROY_REASON): void {
    this.requestClose(1001, reason);
    if (this.state !== 'closed') this.#override = { code: 1001, reason };
    this.#shutdownTimer = this.#host.runtime.setTimer(() => {
      if (this.state !== 'closed') this.#socket?.abort();
    }, SHUTDOWN_GRACE_MS);
  }

  #onTimeout = (): void => {
    if (this.state !== 'connecting') return;
    this.#drop(errors.connectTimeout());
  };

  /** Drops the connection for `errMsg`: onError, then onClose 1006 whatever the socket reports. */
  #drop(errMsg: string): void {
    this.error(errMsg);
    this.#override = { code: 1006, reason: ABNORMAL_CLOSURE_REASON };
    this.state = 'closing';
    this.#socket?.abort();
  }
}

export class Host {
  readonly config: HostConfig;
  readonly runtime: HostRuntime;
  readonly outbox: Outbox;
  readonly flow = new FlowControl();
  /** The least {@link LEVELS} of the log entries the facade wants. */
  readonly logLevel: number;
  /** The page is online, as it last said (browsers): a new reconnecting socket waits if not. */
  online = true;
  /** Connections with values to hand the page at the next flush. */
  readonly #offers = new Set<Connection>();

  /** `connection` has values for the page: they join the next batch. */
  offer(connection: Connection): void {
    this.#offers.add(connection);
    this.outbox.touch();
  }

  #gather = (): void => {
    if (this.#offers.size === 0) return;
    for (const connection of this.#offers) connection.offerValues();
    this.#offers.clear();
  };
  readonly #connections = new Map<number, Connection>();
  /** Batches received from the facade, for stats. */
  #received = 0;
  #ending = false;
  #ended = false;
  #postFailing = false;
  readonly #onEnd: () => void;

  constructor(config: HostConfig, runtime: HostRuntime, onEnd: () => void) {
    this.config = config;
    this.runtime = runtime;
    this.outbox = new Outbox(runtime.post, this.#postFailed, runtime.schedule, runtime.later, this.#gather);
    this.#onEnd = onEnd;
    this.logLevel = LEVELS[config.log] ?? LEVELS.warn;
  }

  /** Handles one batch from the facade. A bad frame is skipped; it never stops the host. */
  receive = (batch: Batch<Command>): void => {
    if (!isBatch(batch)) return;
    this.#received++;
    readBatch(batch, this.#send, this.#command);
    if (batch.bytes > 0 || batch.items > 0) this.flow.credit(Number(batch.bytes) || 0, Number(batch.items) || 0);
  };

  #send = (id: number, data: Item): void => {
    const connection = this.#connections.get(id);
    if (connection === undefined) this.outbox.ack(id, errors.sendAborted());
    else connection.send(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
  };

  #command = (command: Command): void => {
    try {
      this.#handle(command);
    } catch (error) {
      console.error('qq-socket-worker host: command failed', error);
    }
  };

  #handle(command: Command): void {
    switch (command?.type) {
      case 'connect':
        if (this.#ending || this.#connections.has(command.id)) return;
        {
          const connection = new Connection(this, command);
          this.#connections.set(command.id, connection);
          connection.start(command);
        }
        return;
      case 'send-range': {
        const connection = this.#connections.get(command.id);
        if (connection === undefined) this.outbox.ack(command.id, errors.sendAborted());
        else connection.send(new Uint8Array(command.data, command.offset, command.length));
        return;
      }
      case 'close':
        this.#connections.get(command.id)?.requestClose(command.code, command.reason);
        return;
      case 'shutdown':
        this.#ending = true;
        for (const connection of this.#connections.values()) connection.shutdown(command.reason);
        this.#endIfDone();
        return;
      case 'dial':
        this.#connections.get(command.id)?.dialed(command);
        return;
      case 'send-value': {
        const connection = this.#connections.get(command.id);
        if (connection === undefined) this.outbox.ack(command.id, errors.sendAborted());
        else connection.sendValue(command.value);
        return;
      }
      case 'took':
        this.#connections.get(command.id)?.took(Number(command.values) || 0, Number(command.unkeyed) || 0);
        return;
      case 'page':
        if (command.event === 'online' || command.event === 'offline') this.online = command.event === 'online';
        for (const connection of this.#connections.values()) connection.page(command.event);
        // After every socket event handled before it: the tab knows which errors came of the cache.
        if (command.event === 'shown') this.outbox.push({ type: 'restored' });
        return;
      default:
        command satisfies never; // a new command type must be handled above
    }
  }

  /**
   * A batch could not be posted: each task it carried events for is told (onError, then
   * onClose 1006) in the next batch; a task whose close was in it gets that close this way, and
   * an `ended` frame goes again. Only our own code fills batches, so this is a bug's last line.
   */
  #postFailed = (batch: Batch<HostEvent>, error: unknown): void => {
    // A pipeline's value that cannot be cloned fails its own task alone (1007), and the rest of
    // the batch goes again.
    if (this.#dropUncloneable(batch)) return;
    console.error('qq-socket-worker host: a batch could not be posted', error);
    if (this.#postFailing) return; // the replacement frames failed too: nothing more to try
    this.#postFailing = true;
    const errMsg = undeliverable(String((error as Error)?.message ?? error));
    this.flow.credit(batch.bytes, batch.ids.length); // those messages will never be dispatched
    const ids = new Set<number>(batch.ids);
    let ended = false;
    for (const frame of batch.control) {
      if (frame.type === 'ended') ended = true;
      else if (frame.type !== 'restored') ids.add(frame.id);
    }
    for (const id of ids) {
      const connection = this.#connections.get(id);
      if (connection !== undefined) connection.lost(errMsg);
      else {
        this.outbox.push({ type: 'error', id, errMsg });
        this.outbox.push({ type: 'close', id, code: 1006, reason: ABNORMAL_CLOSURE_REASON });
      }
    }
    if (ended) this.outbox.push({ type: 'ended' });
    this.outbox.flush(); // now: an `ended` host closes its ports right after this
    this.#postFailing = false;
  };

  /**
   * Takes the values that cannot be cloned out of `batch`, fails their tasks, and posts the rest;
   * false when the batch holds none (another failure: a bug of ours).
   */
  #dropUncloneable(batch: Batch<HostEvent>): boolean {
    const failed = new Map<number, unknown>();
    for (const frame of batch.control) {
      if (frame.type !== 'value') continue;
      try {
        structuredClone(frame.value);
      } catch (error) {
        if (!failed.has(frame.id)) failed.set(frame.id, error);
      }
    }
    if (failed.size === 0) return false;
    batch.control = batch.control.filter((frame) => frame.type !== 'value' || !failed.has(frame.id));
    const transfer: ArrayBuffer[] = batch.slab === undefined ? [] : [batch.slab];
    for (const data of batch.data) {
      if (data instanceof ArrayBuffer) transfer.push(data);
      else if (typeof data === 'object') transfer.push(data.ascii);
    }
    try {
      this.runtime.post(batch, transfer);
    } catch {
      return false;
    }
    for (const [id, error] of failed) this.#connections.get(id)?.valueFailed(error);
    return true;
  }

  /** Called by a connection once it reached `closed`. */
  forget(id: number): void {
    this.#connections.delete(id);
    if (this.#ending) this.#endIfDone();
  }

  #endIfDone(): void {
    if (this.#ended || this.#connections.size > 0) return;
    this.#ended = true;
    this.outbox.push({ type: 'ended' } satisfies HostEvent);
    this.outbox.flush();
    this.#onEnd();
  }

  /** Closes every socket (1001, `reason`) and ends, as a facade's shutdown would (its tab died). */
  shutdown(reason?: string): void {
    this.#command({ type: 'shutdown', reason });
  }

  stats(): HostStats {
    let framesTaken = 0;
    for (const connection of this.#connections.values()) framesTaken += connection.framesTaken;
    return {
      sockets: this.#connections.size,
      ...this.flow.stats(),
      batches: this.outbox.batches,
      received: this.#received,
      framesTaken,
      tasks: [...this.#connections.values()].map((connection) => connection.stats()),
    };
  }
}
