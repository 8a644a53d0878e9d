/**
 * Flow control toward the facade: a credit window over the bytes posted but not yet dispatched.
 * Past the high-water mark the host stops reading the sockets that deliver (real TCP
 * backpressure, nothing dropped); once credit brings it under the low-water mark they resume.
 * design.md: without it a stalled main thread builds an unbounded backlog.
 */

/** Something that can stop and restart reading. */
export interface Pausable {
  pause(): void;
  resume(): void;
}

/**
 * The window has two limits, whichever comes first: bytes, to bound memory and cover the credit
 * round trip at full bandwidth; and messages, to bound the facade's backlog to a few milliseconds
 * of dispatch work (a message costs it ~0.1–0.3 µs whatever its size), so a backlog never blocks
 * its event loop for long.
 */
export const HIGH_WATER_BYTES = 8 * 1024 * 1024;
export const HIGH_WATER_ITEMS = 16 * 1024;
/** Reading resumes under both of these. */
export const LOW_WATER_BYTES = 2 * 1024 * 1024;
export const LOW_WATER_ITEMS = 4 * 1024;

export class FlowControl {
  #bytes = 0;
  #items = 0;
  #pauses = 0;
  #resumes = 0;
  readonly #paused = new Set<Pausable>();

  /** `source` delivered one message of `bytes` toward the facade. */
  delivered(bytes: number, source: Pausable): void {
    this.#bytes += bytes;
    this.#items++;
    if ((this.#bytes > HIGH_WATER_BYTES || this.#items > HIGH_WATER_ITEMS) && !this.#paused.has(source)) {
      this.#paused.add(source);
      this.#pauses++;
      source.pause();
    }
  }

  /** The facade dispatched `items` messages of `bytes` in all. */
  credit(bytes: number, items: number): void {
    this.#bytes = Math.max(0, this.#bytes - bytes);
    this.#items = Math.max(0, this.#items - items);
    if (this.#bytes <= LOW_WATER_BYTES && this.#items <= LOW_WATER_ITEMS && this.#paused.size > 0) {
      const paused = [...this.#paused];
      this.#paused.clear();
      this.#resumes += paused.length;
      for (const source of paused) source.resume();
    }
  }

  /** `source` is closing or gone: it reads freely again (a closing handshake must be read). */
  release(source: Pausable): void {
    if (this.#paused.delete(source)) {
      this.#resumes++;
      source.resume();
    }
  }

  /** For diagnostics: what is in flight now, and how often reading was paused and resumed. */
  stats(): FlowStats {
    return { inFlightBytes: this.#bytes, inFlightItems: this.#items, pauses: this.#pauses, resumes: this.#resumes };
  }
}

export interface FlowStats {
  inFlightBytes: number;
  inFlightItems: number;
  pauses: number;
  resumes: number;
}
