/**
 * Batches host events toward the facade: one post per turn, never one per WebSocket message.
 * docs/architecture.md "Control plane and data plane" says why; docs/performance.md
 * "Measurements behind the design" has the measurements.
 */
import { type Batch, BatchBuilder } from '../shared/batch.js';
import type { BufferedEvent, HostEvent, SentEvent } from '../shared/protocol.js';
import type { Received } from './socket.js';

/** Posts one batch with its transfer list. */
export type PostBatch = (batch: Batch<HostEvent>, transfer: ArrayBuffer[]) => void;

/** Told of a batch that could not be posted (it is lost), with why. */
export type PostFailed = (batch: Batch<HostEvent>, error: unknown) => void;

/**
 * Runs `fn` at the end of the current task: queueMicrotask, so that everything one socket read
 * produced goes out in one post (thousands of messages in a flood), without waiting a loop turn
 * (which would add latency to every round trip).
 */
export type Scheduler = (fn: () => void) => void;

/**
 * A batch carrying at least this much payload when its turn ends waits once more, for `later`
 * (setImmediate on Node: after the I/O callbacks of this loop turn). A large message fills a
 * socket read by itself, so flushing at the end of each read meant one post and one thread
 * wake-up per large message; waiting lets the other reads of the turn join the batch. Smaller
 * batches (a round trip's message) still go at once.
 */
export const GATHER_FROM_BYTES = 32 * 1024;

export class Outbox {
  readonly #builder = new BatchBuilder<HostEvent>();
  /** This batch's acknowledgement frame per task, to count further acks into. */
  readonly #acks = new Map<number, SentEvent>();
  /** This batch's buffered-amount frame per task, to update. */
  readonly #buffered = new Map<number, BufferedEvent>();
  #scheduled = false;
  /** This batch already waited for `later` once. */
  #gathered = false;
  #batches = 0;
  readonly #post: PostBatch;
  readonly #failed: PostFailed;
  readonly #schedule: Scheduler;
  readonly #later: Scheduler | undefined;

  /** Runs first at each flush: what waits elsewhere for a batch (a pipeline's values) joins it. */
  readonly #gather: (() => void) | undefined;

  constructor(post: PostBatch, failed: PostFailed, schedule: Scheduler, later?: Scheduler, gather?: () => void) {
    this.#post = post;
    this.#failed = failed;
    this.#schedule = schedule;
    this.#later = later;
    this.#gather = gather;
  }

  /** Queues one received message (see {@link Received}); returns its size for flow control. */
  message(id: number, data: Received): number {
    const builder = this.#builder;
    let cost: number;
    if (typeof data === 'string') cost = builder.text(id, data);
    else if (data instanceof Uint8Array) cost = builder.binary(id, data, true);
    else if (data instanceof ArrayBuffer) cost = builder.moved(id, data);
    else cost = builder.asciiText(id, data.ascii, true);
    if (builder.full) this.flush();
    else this.#arm();
    return cost;
  }

  /** Queues one event, after every message queued so far; `transfer`: ArrayBuffers it moves. */
  push(event: HostEvent, transfer?: readonly ArrayBuffer[]): void {
    this.#builder.control(event, transfer);
    this.#arm();
  }

  /** Makes sure a flush comes at the end of this turn (for what `gather` adds then). */
  touch(): void {
    this.#arm();
  }

  /**
   * Acknowledges one more send of task `id` (`errMsg`: it failed). Acks of one task with the same
   * outcome merge into the batch's first such frame: a success reported a little early (before
   * messages that arrived meanwhile) is harmless, and saves a frame per send in an echo flood.
   */
  ack(id: number, errMsg?: string): void {
    const frame = this.#acks.get(id);
    if (frame !== undefined && frame.errMsg === errMsg) {
      frame.count++;
      return;
    }
    const fresh: SentEvent =
      errMsg === undefined ? { type: 'sent', id, count: 1 } : { type: 'sent', id, count: 1, errMsg };
    this.#acks.set(id, fresh);
    this.push(fresh);
  }

  /**
   * Reports what task `id`'s socket still buffers. Reports of one task merge into the batch's
   * first one: only the latest amount matters.
   */
  buffered(id: number, bytes: number): void {
    const frame = this.#buffered.get(id);
    if (frame !== undefined) {
      frame.bytes = bytes;
      return;
    }
    const fresh: BufferedEvent = { type: 'buffered', id, bytes };
    this.#buffered.set(id, fresh);
    this.push(fresh);
  }

  /** Posts whatever is queued now. */
  flush = (): void => {
    this.#scheduled = false;
    this.#gather?.();
    const builder = this.#builder;
    if (builder.empty) return;
    if (this.#later !== undefined && !this.#gathered && !builder.full && builder.bytes >= GATHER_FROM_BYTES) {
      this.#gathered = true;
      this.#scheduled = true;
      this.#later(this.flush);
      return;
    }
    this.#gathered = false;
    this.#acks.clear();
    this.#buffered.clear();
    builder.addCredit(builder.bytes, 0); // what the facade returns once it has dispatched them
    const [batch, transfer] = builder.take();
    this.#batches++;
    try {
      this.#post(batch, transfer);
    } catch (error) {
      this.#failed(batch, error); // e.g. a DataCloneError: say so to the tasks, not to a console
    }
  };

  /** Batches posted so far, for stats. */
  get batches(): number {
    return this.#batches;
  }

  #arm(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(this.flush);
  }
}
