/**
 * Batches host events toward the facade: one post per turn, never one per WebSocket message.
 * See design.md "Control plane and data plane" for the measurements behind it.
 */
import type { Batch, HostEvent } from '../shared/protocol.js';

/** Posts one batch with its transfer list. */
export type PostBatch = (batch: Batch<HostEvent>, transfer: ArrayBuffer[]) => void;

/** Runs `fn` once the current turn's I/O is done (setImmediate on Node). */
export type Scheduler = (fn: () => void) => void;

export class Outbox {
  #frames: HostEvent[] = [];
  #transfer: ArrayBuffer[] = [];
  #scheduled = false;
  readonly #post: PostBatch;
  readonly #schedule: Scheduler;

  constructor(post: PostBatch, schedule: Scheduler) {
    this.#post = post;
    this.#schedule = schedule;
  }

  /** Queues one event; `transfer` moves its buffer instead of copying it. */
  push(event: HostEvent, transfer?: ArrayBuffer): void {
    this.#frames.push(event);
    if (transfer !== undefined) this.#transfer.push(transfer);
    this.#arm();
  }

  /**
   * Acknowledges `count` more sends of task `id`. Consecutive acks of one task with the same
   * outcome merge into one frame.
   */
  ack(id: number, errMsg?: string): void {
    const last = this.#frames.at(-1);
    if (last !== undefined && last.type === 'sent' && last.id === id && last.errMsg === errMsg) {
      last.count++;
      return;
    }
    this.#frames.push(errMsg === undefined ? { type: 'sent', id, count: 1 } : { type: 'sent', id, count: 1, errMsg });
    this.#arm();
  }

  /** Posts whatever is queued now. */
  flush = (): void => {
    this.#scheduled = false;
    if (this.#frames.length === 0) return;
    const frames = this.#frames;
    const transfer = this.#transfer;
    this.#frames = [];
    this.#transfer = [];
    this.#post(frames, transfer);
  };

  #arm(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(this.flush);
  }
}
