/**
 * The global functions: one bound task per qq instance and one listener slot per event.
 * docs/semantics.md "The global functions".
 */
import { errors } from '../shared/errors.js';
import type { GeneralCallbackResult } from '../shared/types.js';
import { replyOrPromise, safeCall } from './callbacks.js';
import { byEvent, type EventName, type EventResults, SocketTaskImpl } from './socket-task.js';

export class GlobalBinding {
  #bound: SocketTaskImpl | undefined;
  readonly #slots: Record<EventName, ((result: never) => void) | undefined> = {
    open: undefined,
    message: undefined,
    error: undefined,
    close: undefined,
  };

  /** Called by connectSocket only: a new task takes the binding if there is none or it is CLOSED. */
  offer(task: SocketTaskImpl): void {
    if (this.#bound === undefined || this.#bound.readyState === task.CLOSED) this.#bound = task;
  }

  /** Sets a slot (the last registration wins); a non-function clears it. */
  set<K extends EventName>(name: K, callback: unknown): void {
    this.#slots[name] = typeof callback === 'function' ? (callback as (result: never) => void) : undefined;
  }

  emit<K extends EventName>(name: K, task: SocketTaskImpl, result: EventResults[K]): void {
    if (task === this.#bound) safeCall(byEvent(this.#slots, name), result);
  }

  /** The bound task, or a CLOSED stand-in so that every check runs in the same order. */
  get #target(): SocketTaskImpl {
    return this.#bound ?? NO_TASK;
  }

  sendSocketMessage(option: unknown): Promise<GeneralCallbackResult> | undefined {
    const { reply, promise } = replyOrPromise(option);
    this.#target.sendWith(option, reply, errors.notConnected('sendSocketMessage'));
    return promise;
  }

  closeSocket(option: unknown): Promise<GeneralCallbackResult> | undefined {
    const { reply, promise } = replyOrPromise(option);
    this.#target.closeWith(option, reply, errors.notConnected('closeSocket'));
    return promise;
  }
}

/** A task that is CLOSED from birth and never bound: what the globals act on before any connectSocket. */
const NO_TASK = new SocketTaskImpl(0, '');
