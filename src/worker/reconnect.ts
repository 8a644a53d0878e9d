/**
 * `connectSocket({ reconnect })`: a socket that outlives its connections. When a connection ends
 * in any way the app did not ask for, it waits (backoff with jitter) and connects again, until a
 * connection opens or `retries` run out; sends made meanwhile wait, in order, up to `queue`
 * bytes. Ends a retry cannot fix (a 4xx handshake, close codes 1002/1003/1007–1010) end the
 * socket as they would without it. docs/semantics.md "Staying connected" has the whole contract.
 *
 * Built as a {@link SocketFactory} around the real one (under the share pool, so that a shared
 * socket reconnects once for all its holders); without `reconnect` it hands the frame straight on.
 *
 *   dialing ──credentials──▶ connecting ──open──▶ open
 *      ▲                         │                  │
 *      └──── waiting ◀── lost, retriable ◀──────────┘
 *   (close()/abort() from any state, a final loss, or retries run out ──▶ closed)
 */
import { ABNORMAL_CLOSURE_REASON, CONNECTION_LOST, errors, staying } from '../shared/errors.js';
import type { ConnectFrame, HostConfig, PageFrame, ReconnectPolicy } from '../shared/protocol.js';
import { backoffDelay, isRetriable } from '../shared/reconnect.js';
import { clearTimeout, MAX_TIMER_MS, queueMicrotask, setTimeout } from '../shared/timers.js';
import { utf8ByteLength } from '../shared/validate.js';
import type { HostSocket, Received, SendDone, SocketFactory, SocketHandlers } from './socket.js';

export function withReconnect(inner: SocketFactory): SocketFactory {
  return (frame, config, handlers) =>
    frame.reconnect === undefined ? inner(frame, config, handlers) : new Durable(inner, frame, config, handlers);
}

/** A send's failure, with the errMsg its task hears. */
export function sendFailure(errMsg: string): Error & { errMsg: string } {
  return Object.assign(new Error(errMsg), { errMsg });
}

type State = 'dialing' | 'connecting' | 'open' | 'waiting' | 'ending' | 'closed';

/** A send's outcome, held until every earlier one was reported. */
interface Outcome {
  done: SendDone;
  settled: boolean;
  error: Parameters<SendDone>[0];
}

/** What the connection under way said went wrong, before it closed. */
interface Failure {
  errMsg: string;
  closeCode?: number | undefined;
  status?: number | undefined;
}

class Durable implements HostSocket {
  #state: State = 'dialing';
  readonly #inner: SocketFactory;
  readonly #frame: ConnectFrame;
  readonly #config: HostConfig;
  readonly #handlers: SocketHandlers;
  readonly #policy: ReconnectPolicy;
  #socket: HostSocket | undefined;
  /** Stands for the connection under way: events of an older one are ignored. */
  #current: object = {};
  #failure: Failure | undefined;
  /** Retries of the current outage so far (0: none; the first connection, or one that opened). */
  #attempt = 0;
  #opened = false;
  /** The next loss counts from retry 1 again (the page came back online, or from the cache). */
  #afresh = false;
  /** The connection was ended for the back/forward cache: its retry comes at once. */
  #restored = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Every send not yet reported, in call order (see #inOrder). */
  #outcomes: Outcome[] = [];
  #outcomesHead = 0;
  /** Sends not yet handed to a socket, in order, and their bytes. */
  #queue: Array<{ data: string | Uint8Array; done: SendDone }> = [];
  #queued = 0;
  /** Retries wait while the page is offline, or in the back/forward cache. */
  #online = true;
  #cached = false;
  #paused = false;

  constructor(inner: SocketFactory, frame: ConnectFrame, config: HostConfig, handlers: SocketHandlers) {
    this.#inner = inner;
    this.#frame = frame;
    this.#config = config;
    this.#handlers = handlers;
    this.#policy = frame.reconnect as ReconnectPolicy;
    const resume = frame.resume;
    if (resume !== undefined) {
      // The previous host died under this task: the facade announced the loss and waited.
      this.#attempt = resume.attempt;
      this.#opened = resume.opened;
    }
    // After the host had its say: it tells a new socket whether the page is offline first.
    queueMicrotask(() => {
      if (this.#state !== 'dialing') return; // closed meanwhile
      if (this.#online) this.#dial();
      else this.#state = 'waiting'; // `online` dials
    });
  }

  get framesTaken(): number {
    return this.#socket?.framesTaken ?? 0;
  }

  /** Flow control can pause only where the runtime's socket can (see HostSocket.pause). */
  get pause(): (() => void) | undefined {
    return this.#socket?.pause === undefined ? undefined : this.#pause;
  }
  get resume(): (() => void) | undefined {
    return this.#socket?.resume === undefined ? undefined : this.#resume;
  }
  #pause = (): void => {
    this.#paused = true;
    this.#socket?.pause?.();
  };
  #resume = (): void => {
    this.#paused = false;
    this.#socket?.resume?.();
  };

  send(data: string | Uint8Array, sent: SendDone): void {
    const done = this.#inOrder(sent);
    const state = this.#state;
    if (state === 'open' && this.#socket !== undefined) this.#socket.send(data, done);
    else if (state === 'ending' || state === 'closed') done(sendFailure(errors.sendAborted()));
    else {
      const bytes = typeof data === 'string' ? utf8ByteLength(data) : data.byteLength;
      const { queue } = this.#policy;
      if (this.#queued + bytes > queue) done(sendFailure(errors.sendQueueFull(queue)));
      else {
        this.#queue.push({ data, done });
        this.#queued += bytes;
      }
    }
  }

  /**
   * `done` reported only once every earlier send was: the task's facade settles sends in call
   * order, and a send refused at once (the queue is full) must not overtake one still waiting.
   */
  #inOrder(done: SendDone): SendDone {
    const entry: Outcome = { done, settled: false, error: undefined };
    this.#outcomes.push(entry);
    return (error) => {
      entry.settled = true;
      entry.error = error;
      const outcomes = this.#outcomes;
      while (this.#outcomesHead < outcomes.length && (outcomes[this.#outcomesHead] as Outcome).settled) {
        const { done: report, error: reported } = outcomes[this.#outcomesHead++] as Outcome;
        report(reported);
      }
      if (this.#outcomesHead === outcomes.length) {
        this.#outcomes = [];
        this.#outcomesHead = 0;
      }
    };
  }

  close(code: number, reason: string): void {
    if (this.#state === 'open' && this.#socket !== undefined) {
      this.#state = 'ending';
      this.#socket.close(code, reason);
    } else this.abort();
  }

  abort(): void {
    const state = this.#state;
    if (state === 'ending' || state === 'closed') return;
    this.#state = 'ending';
    if ((state === 'connecting' || state === 'open') && this.#socket !== undefined) {
      this.#socket.abort(); // its close ends this
      return;
    }
    this.#final(1006, '', undefined); // between connections: nothing to close
  }

  page(event: PageFrame['event']): void {
    if (event === 'offline' || event === 'online') this.#online = event === 'online';
    else this.#cached = event === 'hidden';
    const state = this.#state;
    if (event === 'shown' && (state === 'open' || state === 'connecting')) {
      // The browser closed this socket while the page was cached, whether or not its close
      // event has come yet: end it now, and come back at once.
      this.#failure = { errMsg: staying.backForwardCache() };
      this.#restored = true;
      this.#socket?.abort();
      return;
    }
    if (event === 'offline' || event === 'hidden' || state !== 'waiting') return;
    if (!this.#online || this.#cached) return;
    // Back online, or back from the back/forward cache: try at once, the backoff afresh.
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#afresh = true;
    this.#dial();
  }

  /** Asks for the url and headers of this attempt where they are functions, then connects. */
  #dial(): void {
    this.#state = 'dialing';
    const handlers = this.#handlers;
    if (this.#frame.dynamic !== true || handlers.credentials === undefined) {
      this.#connect(this.#frame.url, this.#frame.headers);
      return;
    }
    const current = {};
    this.#current = current;
    handlers.credentials(this.#attempt).then((answer) => {
      if (this.#current !== current || this.#state !== 'dialing') return; // closed meanwhile
      if ('errMsg' in answer) this.#failed(answer.errMsg);
      else this.#connect(answer.url, answer.headers);
    });
  }

  #connect(url: string, headers: Record<string, string>): void {
    this.#state = 'connecting';
    const current = {};
    this.#current = current;
    this.#failure = undefined;
    const { timeout } = this.#frame;
    if (timeout > 0 && timeout <= MAX_TIMER_MS) {
      this.#connectTimer = setTimeout(() => {
        if (this.#current !== current || this.#state !== 'connecting') return;
        this.#failure ??= { errMsg: errors.connectTimeout() };
        this.#socket?.abort();
      }, timeout);
    }
    const stale = () => this.#current !== current;
    const handlers: SocketHandlers = {
      open: (header, protocol, connectEnd) => {
        if (stale() || this.#state !== 'connecting') return;
        clearTimeout(this.#connectTimer);
        this.#state = 'open';
        const again =
          this.#attempt > 0 || this.#opened ? { attempt: this.#attempt, reconnected: this.#opened } : undefined;
        this.#attempt = 0;
        this.#opened = true;
        this.#handlers.open(header, protocol, connectEnd, again);
        const socket = this.#socket as HostSocket;
        const queue = this.#queue;
        this.#queue = [];
        this.#queued = 0;
        for (const { data, done } of queue) socket.send(data, done);
      },
      message: (data: Received) => {
        if (!stale()) this.#handlers.message(data);
      },
      error: (errMsg, closeCode, status) => {
        if (!stale()) this.#failure ??= { errMsg, closeCode, status };
      },
      close: (code, reason) => {
        if (stale()) return;
        clearTimeout(this.#connectTimer);
        this.#socket = undefined;
        this.#current = {};
        this.#ended(code, reason);
      },
      buffered: (bytes) => {
        if (!stale()) this.#handlers.buffered?.(bytes);
      },
    };
    try {
      const socket = this.#inner({ ...this.#frame, url, headers }, this.#config, handlers);
      if (stale()) return; // it failed synchronously and closed
      this.#socket = socket;
      if (this.#paused) socket.pause?.();
    } catch (error) {
      if (!stale()) this.#failed(String((error as Error)?.message ?? error));
    }
  }

  /** An attempt that never got a socket. */
  #failed(errMsg: string): void {
    this.#current = {};
    this.#failure = { errMsg };
    this.#ended(1006, '');
  }

  /** A connection (or an attempt at one) ended: retry, or end for good. */
  #ended(code: number, reason: string): void {
    const failure = this.#failure;
    this.#failure = undefined;
    if (this.#state === 'ending' || !isRetriable(failure?.closeCode ?? code, failure?.status)) {
      this.#final(code, reason, failure);
      return;
    }
    if (this.#restored) code = 1006; // the browser dropped it (our abort may have been a close)
    const drop = code === 1006;
    const errMsg = this.#cached
      ? staying.backForwardCache()
      : (failure?.errMsg ?? (drop ? CONNECTION_LOST : staying.serverClosed(code, reason)));
    this.#retry(code, drop ? ABNORMAL_CLOSURE_REASON : reason, errMsg);
  }

  #retry(code: number, reason: string, errMsg: string): void {
    const attempt = this.#afresh ? 1 : this.#attempt + 1;
    this.#afresh = false;
    this.#attempt = attempt;
    if (attempt > this.#policy.retries) {
      this.#final(code, reason, { errMsg: staying.gaveUp(attempt - 1, errMsg) });
      return;
    }
    // Back from the cache: at once (the browser, not the server, ended the connection).
    const delay = this.#restored ? 0 : backoffDelay(this.#policy, attempt);
    this.#restored = false;
    this.#state = 'waiting';
    this.#handlers.reconnect?.({ attempt, delay, code, reason, errMsg });
    if (this.#cached) return; // a frozen page's timers do not run: `shown` dials
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#state === 'waiting' && this.#online) this.#dial(); // offline: `online` dials
    }, delay);
  }

  /** The end: waiting sends fail, then the task hears why (if anything went wrong) and the close. */
  #final(code: number, reason: string, failure: Failure | undefined): void {
    this.#state = 'closed';
    clearTimeout(this.#timer);
    clearTimeout(this.#connectTimer);
    const queue = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    for (const { done } of queue) done(sendFailure(errors.sendAborted()));
    if (failure !== undefined) this.#handlers.error(failure.errMsg, failure.closeCode, failure.status);
    this.#handlers.close(code, reason);
  }
}
