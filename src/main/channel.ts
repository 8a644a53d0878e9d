/**
 * A pair of ports for a host on this thread (`inline`, or a host that could not start): the
 * runtime's MessageChannel where it has one, else {@link LocalPort}s. Runtimes without one exist
 * where `inline` is most needed: DOM emulations under test runners (jsdom has no
 * MessageChannel, nor structuredClone), embedded script engines.
 */
import type { Port } from '../shared/protocol.js';
import { queueMicrotask } from '../shared/timers.js';

type Listener = (event: { data: unknown }) => void;

/**
 * One end of an in-thread channel. A message is delivered as it is (no clone: both ends are
 * this library's, and neither touches what it posted again; what it transfers it has already
 * let go), each in a microtask of its own, in order, once the receiving end has started (a
 * listener starts it, as on Node). As with a MessagePort, closing either end stops what is
 * posted after; what the other end had already received still reaches its listeners.
 */
export class LocalPort implements Port {
  #other: LocalPort | undefined;
  readonly #listeners = new Set<Listener>();
  readonly #queue: unknown[] = [];
  #started = false;
  #scheduled = false;

  static pair(): { port1: LocalPort; port2: LocalPort } {
    const port1 = new LocalPort();
    const port2 = new LocalPort();
    port1.#other = port2;
    port2.#other = port1;
    return { port1, port2 };
  }

  postMessage(message: unknown): void {
    const other = this.#other;
    if (other === undefined) return;
    other.#queue.push(message);
    other.#wake();
  }

  addEventListener(_type: 'message', listener: Listener): void {
    this.#listeners.add(listener);
    this.start();
  }

  removeEventListener(_type: 'message', listener: Listener): void {
    this.#listeners.delete(listener);
  }

  start(): void {
    this.#started = true;
    this.#wake();
  }

  close(): void {
    if (this.#other !== undefined) this.#other.#other = undefined;
    this.#other = undefined;
    this.#queue.length = 0;
    this.#listeners.clear();
  }

  #wake(): void {
    if (!this.#started || this.#scheduled || this.#queue.length === 0) return;
    this.#scheduled = true;
    queueMicrotask(this.#deliver);
  }

  /** One message per microtask: a listener that throws fails its message, not the ones after. */
  #deliver = (): void => {
    this.#scheduled = false;
    if (this.#queue.length === 0) return;
    const event = { data: this.#queue.shift() };
    this.#wake();
    for (const listener of this.#listeners) listener(event);
  };
}

/** A MessageChannel, or an in-thread pair of {@link LocalPort}s where the runtime has none. */
export function newChannel(): { port1: Port; port2: Port } {
  if (typeof MessageChannel === 'function') return new MessageChannel();
  return LocalPort.pair();
}
