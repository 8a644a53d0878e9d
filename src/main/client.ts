/**
 * The facade's end of one host: batches commands toward it (one post per turn, or per full batch),
 * dispatches the event batches it sends back, and turns the host's death into onError +
 * onClose(1006).
 */
import type { Remote } from 'comlink';
import { type Batch, BatchBuilder, type Item, isBatch, readBatch } from '../shared/batch.js';
import { DESTROY_REASON, hostDeath, hostDied, staying } from '../shared/errors.js';
import type { Command, HostControl, HostEvent, LogFrame, Port } from '../shared/protocol.js';
import { clearTimeout, now, queueMicrotask, setTimeout } from '../shared/timers.js';

/** What a backend provides: a running host and the means to reach it. */
export interface HostLink {
  data: Port;
  control: Remote<HostControl>;
  /** Settles when the host is gone: resolves after a clean end, rejects with why it died. */
  ended: Promise<unknown>;
  /** Frees the link's ports and proxies (the host has ended); resolves once they are released. */
  dispose(): Promise<void>;
  /**
   * The host is a SharedWorker's: it runs on while this page sits in the back/forward cache, so
   * the page's life (`hidden`, `shown`) is not its.
   */
  shared?: boolean;
}

/** What the client calls on a task. */
export interface EventSink {
  message(data: Item): void;
  deliver(event: HostEvent): void;
  hostDied(errMsg: string): void;
}

/** Runs `fn` after the current turn (setImmediate on Node): where credit is returned from. */
export type TurnScheduler = (fn: () => void) => void;

/**
 * How long a cleanly finished host's `ended` frame may trail the news that it finished: the frame
 * travels on the data port, which has no order with the channel that brings the news (a thread's
 * exit, a shared host's reply on its own port).
 */
const ENDED_FRAME_GRACE_MS = 1000;

/**
 * How long dispatching may hold the event loop in one turn. Node hands a port's whole backlog to
 * one callback: a dozen batches that arrived while the thread was busy would otherwise run back
 * to back (tens of ms). Past the budget, batches wait for the next turn, in order, and their
 * credit with them, so the host's flow control still bounds what waits.
 */
const DISPATCH_BUDGET_MS = 1;

export class HostClient {
  readonly link: HostLink;
  readonly #sinks = new Map<number, EventSink>();
  readonly #out = new BatchBuilder<Command>();
  #flushQueued = false;
  /** Dispatched bytes and messages not yet returned to the host as credit. */
  #creditBytes = 0;
  #creditItems = 0;
  /**
   * The end-of-turn callback (credit, the dispatch budget's clock) that is scheduled, by when it
   * was; undefined while none is. A callback whose turn already ended (not this one) does nothing.
   */
  #queuedTurn: { at: number } | undefined;
  /** See {@link Platform.lateTurnMs}. */
  readonly #lateTurnMs: number | undefined;
  /** Batches received past this turn's budget, dispatched in later turns. */
  readonly #pending: Array<Batch<HostEvent>> = [];
  /** When dispatching began in this turn; undefined between turns. */
  #turnStart: number | undefined;
  readonly #schedule: TurnScheduler;
  /** Between pagehide (persisted) and the host's `restored`: see {@link pageHidden}. */
  #cached = false;
  /** Where the host's log entries go (the instance's `log`). */
  readonly #log: (frame: LogFrame) => void;
  /** running → ending (shutdown sent, or the host's end heard) → gone (ended event, or the host died) */
  #state: 'running' | 'ending' | 'gone' = 'running';
  #endedResolve: (() => void) | undefined;
  #lostTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #gone: Promise<void>;

  constructor(
    link: HostLink,
    schedule: TurnScheduler,
    log: (frame: LogFrame) => void = () => {},
    lateTurnMs: number | undefined = undefined,
  ) {
    this.link = link;
    this.#schedule = schedule;
    this.#lateTurnMs = lateTurnMs;
    this.#log = log;
    this.#gone = new Promise((resolve) => {
      this.#endedResolve = resolve;
    });
    link.data.addEventListener('message', this.#onBatch);
    link.ended.then(
      // Whether this tab asked it to end or not: a shared host ends this tab's host when it takes
      // the tab for gone, and the sockets' closes come before its `ended` frame, on the data port.
      () => this.#lost(hostDeath.endedUnexpectedly(), ENDED_FRAME_GRACE_MS),
      (error: unknown) => this.#lost(String((error as Error)?.message ?? error), 0),
    );
  }

  /**
   * Whether new tasks may use this host: not once it ends, nor a shared host this tab let go of
   * as the page went into the back/forward cache (see {@link pageHidden}).
   */
  get running(): boolean {
    return this.#state === 'running' && !(this.#cached && this.link.shared === true);
  }

  /**
   * The page went into the back/forward cache (pagehide with persisted): until the host says it
   * saw the page shown again, the errors it reports are of sockets the browser closed. A shared
   * host never says so: the tab let go of it on pagehide, and it closes the tab's sockets (1001,
   * as on destroy()), which to their tasks is the cache taking them (an error, or a reconnect).
   */
  pageHidden(): void {
    this.#cached = true;
  }

  /** Adds a task whose events this client dispatches. */
  attach(id: number, sink: EventSink): void {
    this.#sinks.set(id, sink);
  }

  /** Queues a command; it goes out with the rest of the turn's (see {@link send}). */
  post(command: Command, transfer?: ArrayBuffer): void {
    if (this.#state === 'gone') return; // the tasks were already told the host died
    this.#out.control(command, transfer);
    this.#arm();
  }

  /**
   * Queues one send of task `id`: text; a view whose bytes are copied now (the caller may reuse
   * its buffer at once); or an ArrayBuffer the caller moved to us (posted without a copy).
   * A batch that is full goes at once, as the host's do: a loop of sends in one turn then
   * reaches the host in short posts it starts writing from while the loop runs, instead of
   * one post as large as the loop (one slab doubled up to its size, one long task for the host).
   */
  send(id: number, data: string | Uint8Array | ArrayBuffer): void {
    if (this.#state === 'gone') return;
    const out = this.#out;
    if (typeof data === 'string') out.text(id, data);
    else if (data instanceof Uint8Array) out.binary(id, data);
    else out.moved(id, data);
    if (out.full) this.#flush();
    else this.#arm();
  }

  #arm(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(this.#flush);
  }

  #flush = (): void => {
    this.#flushQueued = false;
    if (this.#out.empty || this.#state === 'gone') return;
    const [batch, transfer] = this.#out.take();
    this.link.data.postMessage(batch, transfer);
  };

  /**
   * The end of a turn that received batches: dispatches the batches that waited for what is left
   * of this turn's budget, returns the credit of what was dispatched (docs/architecture.md "Flow control": not from inside
   * the handler), and restarts the budget's clock. Batches still waiting wait for the next turn.
   * One clock covers everything a turn dispatches, in the port's callback and here alike.
   */
  #endTurn = (): void => {
    this.#queuedTurn = undefined;
    const start = this.#turnStart ?? now();
    while (this.#pending.length > 0 && now() - start <= DISPATCH_BUDGET_MS) {
      this.#dispatch(this.#pending.shift() as Batch<HostEvent>);
    }
    this.#turnStart = undefined;
    if (this.#pending.length > 0) this.#queueEndTurn();
    if (this.#creditItems === 0) return;
    this.#out.addCredit(this.#creditBytes, this.#creditItems);
    this.#creditBytes = 0;
    this.#creditItems = 0;
    this.#flush();
  };

  #onBatch = (event: { data: unknown }): void => {
    const batch = event.data;
    if (!isBatch(batch)) return;
    const queued = this.#queuedTurn;
    if (queued !== undefined && this.#lateTurnMs !== undefined && now() - queued.at > this.#lateTurnMs) {
      // The end of the turn is starved (WebKit runs a flood of port messages ahead of other
      // tasks): this batch comes in a later task, so the turn is over. End it here, on a fresh
      // clock; else batches would wait, uncredited, until the flood stops.
      this.#turnStart = undefined;
      this.#endTurn();
    }
    if (this.#pending.length > 0 || this.#overBudget()) {
      this.#pending.push(batch as Batch<HostEvent>);
      return;
    }
    this.#dispatch(batch as Batch<HostEvent>);
  };

  /**
   * Whether this turn has dispatched for longer than its budget. The first call of a turn starts
   * its clock and queues its end.
   */
  #overBudget(): boolean {
    const time = now();
    if (this.#turnStart === undefined) {
      this.#turnStart = time;
      this.#queueEndTurn();
      return false;
    }
    return time - this.#turnStart > DISPATCH_BUDGET_MS;
  }

  #queueEndTurn(): void {
    if (this.#queuedTurn !== undefined) return;
    const turn = { at: now() };
    this.#queuedTurn = turn;
    this.#schedule(() => {
      if (this.#queuedTurn === turn) this.#endTurn();
    });
  }

  /** Everything received is delivered before the tasks hear that the host is gone. */
  #drainAll(): void {
    while (this.#pending.length > 0) this.#dispatch(this.#pending.shift() as Batch<HostEvent>);
  }

  #dispatch(batch: Batch<HostEvent>): void {
    readBatch(batch, this.#onMessage, this.#onEvent);
    if (batch.ids.length > 0 && this.#state !== 'gone') {
      this.#creditBytes += batch.bytes;
      this.#creditItems += batch.ids.length;
    }
  }

  // One-entry cache: a flood is mostly runs of messages of one task.
  #lastId = -1;
  #lastSink: EventSink | undefined;

  #onMessage = (id: number, data: Item): void => {
    if (id !== this.#lastId) {
      this.#lastId = id;
      this.#lastSink = this.#sinks.get(id);
    }
    this.#lastSink?.message(data);
  };

  #onEvent = (frame: HostEvent): void => {
    if (frame.type === 'ended') {
      this.#end();
      return;
    }
    if (frame.type === 'log') {
      this.#log(frame);
      return;
    }
    if (frame.type === 'restored') {
      this.#cached = false;
      return;
    }
    // The browser closes a cached page's sockets, and says only 'WebSocket error': say why.
    if (this.#cached && (frame.type === 'error' || frame.type === 'reconnect')) {
      frame.errMsg = staying.backForwardCache();
    }
    const sink = this.#sinks.get(frame.id);
    if (sink === undefined) return;
    if (frame.type === 'close') {
      this.#sinks.delete(frame.id);
      this.#lastId = -1;
      this.#lastSink = undefined;
      if (this.#cached && this.link.shared === true && frame.code === 1001 && frame.reason === DESTROY_REASON) {
        sink.hostDied(staying.backForwardCache());
        return;
      }
    }
    sink.deliver(frame);
  };

  /**
   * Asks the host to close every socket (1001) and end. Resolves once every task got its close
   * and the host is gone.
   */
  shutdown(): Promise<void> {
    if (this.#state === 'running') {
      this.#state = 'ending';
      this.post({ type: 'shutdown' });
      this.#flush();
    }
    return this.#gone;
  }

  #end(): void {
    if (this.#state === 'gone') return;
    this.#state = 'gone';
    clearTimeout(this.#lostTimer);
    // Every task got its close before `ended`; anything left never reached the host.
    this.#failAll(hostDeath.ended());
    // The thread's task settles right after `ended`; dispose once it has, so no port stays.
    this.link.ended.then(this.#dispose, this.#dispose);
  }

  /**
   * The host's task settled outside of `ended`. Its last batches travel on the data port, which
   * has no order with the news (see {@link ENDED_FRAME_GRACE_MS}): give them `graceMs` to arrive.
   */
  #lost(why: string, graceMs: number): void {
    if (this.#state === 'gone') return;
    this.#state = 'ending'; // new tasks go to a fresh host meanwhile
    this.#lostTimer = setTimeout(() => {
      this.#drainAll();
      if (this.#state === 'gone') return;
      this.#state = 'gone';
      this.#failAll(why);
      this.#dispose();
    }, graceMs);
  }

  #failAll(why: string): void {
    const sinks = [...this.#sinks.values()];
    this.#sinks.clear();
    // A host that went while the page was cached (a shared one lets the tab go: see pageHidden).
    const errMsg = this.#cached ? staying.backForwardCache() : hostDied(why);
    for (const sink of sinks) sink.hostDied(errMsg);
  }

  #dispose = (): void => {
    void this.link.dispose().then(this.#endedResolve);
  };
}
