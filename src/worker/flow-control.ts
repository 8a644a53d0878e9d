/**
 * Flow control toward the facade: a credit window over the bytes posted but not yet dispatched.
 * Past the high-water mark the host stops reading the sockets that deliver (real TCP
 * backpressure, nothing dropped); once credit brings it under the low-water mark they resume.
 * docs/architecture.md "Flow control": without it a stalled main thread builds an unbounded
 * backlog.
 */

/** A source of messages: one socket, as flow control sees it. */
export interface Pausable {
  /** Whether `pause` stops it reading. A browser's WebSocket cannot stop; nor can a share. */
  readonly canPause: boolean;
  pause(): void;
  resume(): void;
  /** It cannot pause and the facade is {@link OVERRUN_BYTES} or {@link OVERRUN_ITEMS} behind: fail it. */
  overrun(): void;
}

/**
 * The window has two limits, whichever comes first: bytes, to bound memory and cover the credit
 * round trip at full bandwidth; and messages, to bound the facade's backlog to a few milliseconds
 * of dispatch work (a message costs it about the same whatever its size), so a backlog never blocks
 * its event loop for long.
 */
export const HIGH_WATER_BYTES = 8 * 1024 * 1024;
export const HIGH_WATER_ITEMS = 16 * 1024;
/** Reading resumes under both of these. */
export const LOW_WATER_BYTES = 2 * 1024 * 1024;
export const LOW_WATER_ITEMS = 4 * 1024;
/**
 * A source that cannot pause goes on delivering whatever the facade does with it. A facade this
 * far behind has stopped taking messages (a frozen background tab, a page blocked for seconds):
 * rather than let the backlog grow until the process runs out of memory, the source is failed
 * (onError, then onClose 1006). The limits are a memory bound, far above what a busy page
 * leaves in flight (a page blocked by the debugger loses its socket once this much arrived).
 */
export const OVERRUN_BYTES = 128 * 1024 * 1024;
export const OVERRUN_ITEMS = 1024 * 1024;

export class FlowControl {
  #bytes = 0;
  #items = 0;
  #pauses = 0;
  #resumes = 0;
  #overruns = 0;
  readonly #paused = new Set<Pausable>();

  /** `source` delivered one message of `bytes` toward the facade. */
  delivered(bytes: number, source: Pausable): void {
    this.#bytes += bytes;
    this.#items++;
    if (this.#bytes <= HIGH_WATER_BYTES && this.#items <= HIGH_WATER_ITEMS) return;
    if (!source.canPause) {
      if (this.#bytes > OVERRUN_BYTES || this.#items > OVERRUN_ITEMS) {
        this.#overruns++;
        source.overrun();
      }
    } else if (!this.#paused.has(source)) {
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

  /** For diagnostics: what is in flight now, how often reading was paused and resumed, sources failed. */
  stats(): FlowStats {
    return {
      inFlightBytes: this.#bytes,
      inFlightItems: this.#items,
      pauses: this.#pauses,
      resumes: this.#resumes,
      overruns: this.#overruns,
    };
  }
}

export interface FlowStats {
  inFlightBytes: number;
  inFlightItems: number;
  pauses: number;
  resumes: number;
  overruns: number;
}
