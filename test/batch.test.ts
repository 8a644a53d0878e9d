/** The data plane's batch (batch.ts): what one post carries, and how it is read back. */
import { describe, expect, it } from 'vitest';
import {
  BatchBuilder,
  FULL_BATCH_BYTES,
  FULL_BATCH_ITEMS,
  type Item,
  readBatch,
  TRANSFER_FROM_BYTES,
} from '../src/shared/batch.js';

/** A deterministic stream of byte sizes (xorshift), so that a failure repeats. */
function* sizes(seed: number, below: number): Generator<number> {
  let x = seed;
  for (;;) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    yield (x >>> 0) % below;
  }
}

const bytesOf = (i: number, n: number) => new Uint8Array(n).fill(i & 0xff);

/** Reads a batch back as [id, bytes] pairs, each item copied out. */
function readAll(batch: ReturnType<BatchBuilder<never>['take']>[0]): Array<[number, number[]]> {
  const got: Array<[number, number[]]> = [];
  const onItem = (id: number, data: Item) =>
    got.push([id, [...(typeof data === 'string' ? [] : new Uint8Array(data as ArrayBuffer))]]);
  readBatch(batch, onItem, () => {});
  return got;
}

describe('BatchBuilder', () => {
  it('fills a batch to its byte limit with a slab no larger than a full batch needs, every item exact', () => {
    // Items just under the transfer size all go in the slab, so the slab grows past every
    // doubling on the way to a full batch.
    const builder = new BatchBuilder<never>();
    const size = sizes(7, TRANSFER_FROM_BYTES);
    const sent: Array<[number, number[]]> = [];
    for (let i = 0; !builder.full; i++) {
      const n = TRANSFER_FROM_BYTES - 1 - ((size.next().value as number) % 64);
      builder.addCredit(builder.binary(i, bytesOf(i, n)), 0);
      sent.push([i, [...bytesOf(i, n)]]);
    }
    const [batch, transfer] = builder.take();
    expect(batch.bytes).toBeGreaterThanOrEqual(FULL_BATCH_BYTES);
    expect(batch.ids.length).toBeLessThan(FULL_BATCH_ITEMS);
    // The slab is the one buffer moved, and nothing of it beyond the last item was zero-filled for nothing.
    expect(transfer).toEqual([batch.slab]);
    expect(batch.slab?.byteLength).toBeLessThanOrEqual(FULL_BATCH_BYTES + TRANSFER_FROM_BYTES);
    expect(readAll(batch)).toEqual(sent);
  });

  it('grows a slab past a full batch when nobody posts it at full, keeping every item exact', () => {
    const builder = new BatchBuilder<never>();
    const size = sizes(11, TRANSFER_FROM_BYTES);
    const sent: Array<[number, number[]]> = [];
    let total = 0;
    for (let i = 0; total < 3 * FULL_BATCH_BYTES; i++) {
      const n = size.next().value as number;
      total += builder.binary(i % 5, bytesOf(i, n));
      sent.push([i % 5, [...bytesOf(i, n)]]);
    }
    const [batch] = builder.take();
    expect(batch.slab?.byteLength).toBeGreaterThanOrEqual(total);
    expect(readAll(batch)).toEqual(sent);
  });

  it('moves large messages whole and cuts small ones from the slab, in the order they were added', () => {
    const builder = new BatchBuilder<never>();
    const large = new Uint8Array(TRANSFER_FROM_BYTES).fill(9);
    builder.binary(1, bytesOf(1, 3));
    builder.binary(2, large, true);
    builder.binary(3, bytesOf(3, TRANSFER_FROM_BYTES - 1));
    const [batch, transfer] = builder.take();
    expect(transfer).toContain(large.buffer);
    expect(readAll(batch)).toEqual([
      [1, [1, 1, 1]],
      [2, [...large]],
      [3, [...bytesOf(3, TRANSFER_FROM_BYTES - 1)]],
    ]);
  });
});
