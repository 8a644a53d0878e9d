/**
 * The watch that stands in for Web Locks on insecure origins (heartbeat.ts): a peer silent for
 * the span is gone, once; a peer that speaks is not; and a look that comes late, because this
 * thread was blocked, never decides. Real timers; the span is 1 s.
 */
import { describe, expect, it } from 'vitest';
import { watchPeer } from '../src/shared/heartbeat.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const block = (ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until);
};

describe('watchPeer', () => {
  it('takes a silent peer for gone once, after the span, looking every fifth of it until then', async () => {
    const gone: number[] = [];
    let looks = 0;
    const start = performance.now();
    const watch = watchPeer(
      1000,
      () => gone.push(performance.now() - start),
      () => looks++,
    );
    await expect.poll(() => gone.length, { timeout: 15_000 }).toBe(1);
    expect(gone[0]).toBeGreaterThanOrEqual(1000); // not before the span, however late it came
    expect(looks).toBeGreaterThanOrEqual(4); // every fifth of the span until one found the peer gone
    const seen = looks;
    await sleep(1500);
    expect([gone.length, looks]).toEqual([1, seen]); // once, and then no more looks
    watch.stop();
  });

  it('keeps a peer that speaks, and stops looking when told', async () => {
    let gone = 0;
    let looks = 0;
    const watch = watchPeer(
      1000,
      () => gone++,
      () => looks++,
    );
    const beat = setInterval(() => watch.heard(), 300);
    await sleep(2500);
    clearInterval(beat);
    expect(gone).toBe(0);
    watch.stop();
    const seen = looks;
    await sleep(1500);
    expect([gone, looks]).toEqual([0, seen]);
  });

  it('does not decide on a look that came late, but on the next one, on time', async () => {
    // A tab blocked past the span (a debugger pause) reads the beats that waited for it only
    // after the look that was due meanwhile: that look must leave the decision to the next one.
    let gone = 0;
    const watch = watchPeer(1000, () => gone++);
    block(1500);
    await sleep(50); // the late look (due at 200 ms) runs first
    expect(gone).toBe(0);
    await expect.poll(() => gone, { timeout: 15_000 }).toBe(1); // nothing was heard meanwhile
    watch.stop();
  });
});
