/** Records a task's events in order, for exact assertions. */
import type { SocketTask } from 'qq-socket-worker';
import { expect } from 'vitest';

export type Recorded =
  | { event: 'open'; header: Record<string, string>; profile: Record<string, number> }
  | { event: 'message'; data: string | ArrayBuffer }
  | { event: 'error'; errMsg: string }
  | { event: 'close'; code: number; reason: string };

export interface Recording {
  events: Recorded[];
  /** Resolves with the events once onClose fired. */
  closed: Promise<Recorded[]>;
  /** Resolves once onOpen fired (rejects if the task closed first). */
  opened: Promise<void>;
  /** Resolves once n messages arrived. */
  messages(n: number): Promise<Array<string | ArrayBuffer>>;
  /** Just the event names, in order. */
  names(): string[];
}

export function record(task: SocketTask<unknown, unknown>): Recording {
  const events: Recorded[] = [];
  /** The messages so far, kept apart so a flood of them costs O(1) each. */
  const data: Array<string | ArrayBuffer> = [];
  const messageWaiters: Array<{ n: number; resolve: (d: Array<string | ArrayBuffer>) => void }> = [];
  let openResolve!: () => void;
  let openReject!: (e: Error) => void;
  const opened = new Promise<void>((resolve, reject) => {
    openResolve = resolve;
    openReject = reject;
  });
  opened.catch(() => {});
  const closed = new Promise<Recorded[]>((resolve) => {
    task.onClose(({ code, reason }) => {
      events.push({ event: 'close', code, reason });
      openReject(new Error(`closed before open: ${JSON.stringify(events)}`));
      resolve(events);
    });
  });
  task.onOpen(({ header, profile }) => {
    events.push({ event: 'open', header, profile: { ...profile } });
    openResolve();
  });
  task.onMessage(({ data: received }) => {
    const d = received as string | ArrayBuffer;
    events.push({ event: 'message', data: d });
    data.push(d);
    if (messageWaiters.length === 0) return;
    for (const w of [...messageWaiters]) {
      if (data.length >= w.n) {
        messageWaiters.splice(messageWaiters.indexOf(w), 1);
        w.resolve(data.slice(0, w.n));
      }
    }
  });
  task.onError(({ errMsg }) => events.push({ event: 'error', errMsg }));
  return {
    events,
    closed,
    opened,
    messages: (n) => {
      if (data.length >= n) return Promise.resolve(data.slice(0, n));
      return new Promise((resolve) => messageWaiters.push({ n, resolve }));
    },
    names: () => events.map((e) => e.event),
  };
}

/** A callback trio that records what it was called with. */
export function callbacks() {
  const calls: Array<{ kind: 'success' | 'fail' | 'complete'; result: Record<string, unknown> }> = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    calls,
    done,
    success: (result: object) => calls.push({ kind: 'success', result: result as Record<string, unknown> }),
    fail: (result: object) => calls.push({ kind: 'fail', result: result as Record<string, unknown> }),
    complete: (result: object) => {
      calls.push({ kind: 'complete', result: result as Record<string, unknown> });
      resolve();
    },
  };
}

/**
 * How long `vi.waitFor` and `expect.poll` wait for a condition: up to most of a test's timeout
 * (vitest.config.ts), since a slow or loaded machine only takes longer to get there.
 */
export const WAIT = { timeout: 45_000, interval: 20 };

/**
 * A few macrotasks' wait, only for checking that something does NOT happen (a stray event): a
 * slow machine makes such a check weaker, never wrong.
 */
export const settle = (ms = 50) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `text` and then the bytes 1, 2, 3 on an open echo task, and expects both back in order. */
export async function expectEcho(task: SocketTask, rec: Recording, text: string): Promise<void> {
  task.send({ data: text });
  task.send({ data: new Uint8Array([1, 2, 3]).buffer });
  const [echoedText, bytes] = await rec.messages(2);
  expect(echoedText).toBe(text);
  expect([...new Uint8Array(bytes as ArrayBuffer)]).toEqual([1, 2, 3]);
}
