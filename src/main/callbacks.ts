/** success/fail/complete delivery, and the Promise style of the global send/close. */
import { queueMicrotask } from '../shared/timers.js';
import type { GeneralCallbackResult } from '../shared/types.js';
import { isOptionsObject } from '../shared/validate.js';

/** Calls a user function; a throw is reported and never reaches the library. */
export function safeCall<T>(fn: unknown, arg: T): void {
  if (typeof fn !== 'function') return;
  try {
    fn(arg);
  } catch (error) {
    console.error('qq-socket-worker: a callback threw', error);
  }
}

/** How one API call reports its outcome: exactly once, success or fail, then complete. */
export interface Reply {
  ok(result: GeneralCallbackResult): void;
  fail(errMsg: string): void;
}

const noop = (): void => {};

/**
 * Nothing to report: an accepted send that gave no callback (a failure after acceptance comes
 * with onClose). Shared, so that a flood of `send({ data })` allocates no reply per message (nor
 * a result to hand it).
 */
export const NO_REPLY: Reply = Object.freeze({ ok: noop, fail: noop });

/**
 * The reply of a call that gave no callback: a failure is logged with console.error (as the
 * globals' unawaited rejections are), so that a call refused at once, such as
 * `task.send('text')`, a bad url or one connection too many, is never silent.
 */
export const UNHEARD: Reply = Object.freeze({
  ok: noop,
  fail: (errMsg: string) => console.error(`qq-socket-worker: ${errMsg}`),
});

const hasCallback = (option: unknown): option is Record<string, unknown> =>
  isOptionsObject(option) &&
  (typeof option.success === 'function' || typeof option.fail === 'function' || typeof option.complete === 'function');

/** A reply through the success/fail/complete of `option` (anything may be passed). */
export function callbackReply(option: unknown): Reply {
  if (!hasCallback(option)) return UNHEARD;
  const { success, fail, complete } = option;
  let done = false;
  return {
    ok(result) {
      if (done) return;
      done = true;
      safeCall(success, result);
      safeCall(complete, result);
    },
    fail(errMsg) {
      if (done) return;
      done = true;
      const result = { errMsg };
      safeCall(fail, result);
      safeCall(complete, result);
    },
  };
}

/**
 * The reply for a global `sendSocketMessage`/`closeSocket`: callbacks when the options carry
 * any, else a Promise (WeChat's rule). The Promise is marked handled, so a rejection nobody
 * awaits cannot crash the process, and is logged instead.
 */
export function replyOrPromise(option: unknown): { reply: Reply; promise: Promise<GeneralCallbackResult> | undefined } {
  if (hasCallback(option)) return { reply: callbackReply(option), promise: undefined };
  let reply = NO_REPLY;
  const promise = new Promise<GeneralCallbackResult>((resolve, reject) => {
    reply = { ok: resolve, fail: (errMsg) => reject({ errMsg }) };
  });
  promise.catch((result: GeneralCallbackResult) => console.error(`qq-socket-worker: ${result.errMsg}`));
  return { reply, promise };
}

/** Runs `fn` after the current call returned (WeChat runs some of these synchronously; we never do). */
export const soon = (fn: () => void): void => queueMicrotask(fn);
