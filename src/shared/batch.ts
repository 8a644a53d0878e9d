/**
 * The data plane's batch: everything one side has for the other in one turn, in one post.
 *
 * Messages (host → facade) and sends (facade → host) are columnar: `ids[i]` and `data[i]`.
 * A per-message object costs many times more to clone and rebuild than an array of strings
 * (docs/performance.md "Measurements behind the design"). Every other frame rides in
 * `control`, tagged with `at`: the number of items that come before it, so order holds exactly.
 *
 * Binary crossings by size: small messages are copied into one slab per batch, transferred,
 * and cut on the receiving side (the receiver allocates each message's ArrayBuffer once; cloning
 * would allocate on both sides, and allocating an ArrayBuffer is dear). Large ones
 * are transferred whole, without a copy, and so is any message that already has an ArrayBuffer
 * of its own (a browser's WebSocket makes one per message). Large ASCII text crosses as its
 * bytes too ({@link ASCII_TEXT_FROM_BYTES}).
 */

/** ArrayBuffers from this size up are transferred rather than cloned. */
export const TRANSFER_FROM_BYTES = 16 * 1024;

/**
 * Text of this many bytes and more that is all ASCII crosses as its bytes, moved like a large
 * binary message, and becomes a string on the receiving side. A string would be decoded here
 * and then copied twice by the structured clone; ASCII bytes become a string in one copy.
 * (Other text stays a string: decoding multi-byte UTF-8 is what the host is for.)
 */
export const ASCII_TEXT_FROM_BYTES = TRANSFER_FROM_BYTES;

/** A text message as its ASCII bytes: how such text crosses (an item of {@link Batch.data}). */
export interface AsciiText<B = ArrayBuffer> {
  ascii: B;
}

/**
 * A batch this full is posted at once (docs/architecture.md "Data plane"). Items bound a batch so
 * that each post stays a short task for the receiver. Bytes bound it more loosely: a post costs
 * its receiver a wake-up worth more than moving or copying a 64 KiB message once, and Node reads
 * up to 2 MiB from a socket in one loop turn (libuv: 32 reads of 64 KiB), so a flood of large
 * messages goes in one post per turn. At 512 KiB such a turn went in four posts, and the 64 KiB
 * rows of the bench were slower and dearer (docs/performance.md "Large messages").
 */
export const FULL_BATCH_ITEMS = 4096;
export const FULL_BATCH_BYTES = 2 * 1024 * 1024;

/** First slab of a batch; it doubles as needed. */
const SLAB_START_BYTES = 64 * 1024;
/**
 * What a full batch's slab holds at most: a batch is posted once it reaches FULL_BATCH_BYTES,
 * and the item that got it there went in the slab only if it was smaller than
 * TRANSFER_FROM_BYTES. (A builder nobody posts when full grows its slab past this.)
 */
const SLAB_FULL_BYTES = FULL_BATCH_BYTES + TRANSFER_FROM_BYTES;

/**
 * One post of the data plane. `C` is the control frame union of the direction.
 * `data[i]`: a string (text), an ArrayBuffer (binary, transferred), {@link AsciiText} (text,
 * transferred) or a number: that many bytes, the next ones in `slab`.
 */
export interface Batch<C> {
  ids: number[];
  data: Array<string | ArrayBuffer | AsciiText | number>;
  slab: ArrayBuffer | undefined;
  control: Array<C & { at: number }>;
  /**
   * Host → facade: the payload bytes of this batch's items, which the facade returns as credit
   * once it has dispatched them. Facade → host: the credit being returned.
   */
  bytes: number;
  /** Facade → host: the number of messages being credited (0 host → facade). */
  items: number;
}

const emptyBatch = <C>(): Batch<C> => ({ ids: [], data: [], slab: undefined, control: [], bytes: 0, items: 0 });

/**
 * A fresh ArrayBuffer holding a copy of `bytes`. Not `bytes.slice()`: on a Node Buffer, slice()
 * is a view of the same memory, and moving its buffer would detach memory ws still reads.
 */
export const copyToArrayBuffer = (bytes: Uint8Array): ArrayBuffer => new Uint8Array(bytes).buffer as ArrayBuffer;

/** Whether a view is the whole of an ArrayBuffer (so the buffer itself can be moved). */
const isWholeBuffer = (view: Uint8Array): boolean =>
  view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer;

/** The bytes as an ArrayBuffer to move: their own when `give` and they span all of it, else a copy. */
const bufferToMove = (bytes: Uint8Array, give: boolean): ArrayBuffer =>
  give && isWholeBuffer(bytes) ? (bytes.buffer as ArrayBuffer) : copyToArrayBuffer(bytes);

/** Collects one turn's items and frames. */
export class BatchBuilder<C> {
  #batch: Batch<C> = emptyBatch();
  #transfer: ArrayBuffer[] = [];
  #slab: Uint8Array | undefined;
  #slabUsed = 0;
  /** The size of the items added so far (what {@link full} weighs; credit is not payload). */
  #payload = 0;

  /** Adds an item of `size`; returns the size. */
  #item(id: number, data: string | ArrayBuffer | AsciiText | number, size: number): number {
    this.#batch.ids.push(id);
    this.#batch.data.push(data);
    this.#payload += size;
    return size;
  }

  /** Adds a text item; returns its size for flow control. */
  text(id: number, data: string): number {
    return this.#item(id, data, data.length);
  }

  /**
   * Adds a binary item; returns its size for flow control. The bytes are copied now, except when
   * `give` is set and `bytes` spans a whole ArrayBuffer of transfer size: then that buffer is
   * moved (the caller must not touch it again).
   */
  binary(id: number, bytes: Uint8Array, give = false): number {
    const n = bytes.byteLength;
    if (n >= TRANSFER_FROM_BYTES) return this.moved(id, bufferToMove(bytes, give));
    this.#reserve(n).set(bytes, this.#slabUsed);
    this.#slabUsed += n;
    return this.#item(id, n, n);
  }

  /** Adds text given as its ASCII bytes (see {@link ASCII_TEXT_FROM_BYTES}); `give` as for binary. */
  asciiText(id: number, bytes: Uint8Array, give = false): number {
    const buffer = bufferToMove(bytes, give);
    this.#transfer.push(buffer);
    return this.#item(id, { ascii: buffer }, buffer.byteLength);
  }

  /** A moved ArrayBuffer, posted as is whatever its size (transfer: true). */
  moved(id: number, buffer: ArrayBuffer): number {
    this.#transfer.push(buffer);
    return this.#item(id, buffer, buffer.byteLength);
  }

  /** The slab, with room for `n` more bytes. */
  #reserve(n: number): Uint8Array {
    const slab = this.#slab;
    if (slab !== undefined && this.#slabUsed + n <= slab.byteLength) return slab;
    const need = this.#slabUsed + n;
    let size = slab?.byteLength ?? SLAB_START_BYTES;
    while (size < need) size *= 2;
    // Doubling to the power of two past a full batch would zero-fill memory no batch uses.
    if (need <= SLAB_FULL_BYTES && size > SLAB_FULL_BYTES) size = SLAB_FULL_BYTES;
    const grown = new Uint8Array(size);
    if (slab !== undefined) grown.set(slab.subarray(0, this.#slabUsed));
    this.#slab = grown;
    return grown;
  }

  /** Adds a frame that must be handled after every item added so far. */
  control(frame: C, transfer?: ArrayBuffer | readonly ArrayBuffer[]): void {
    (frame as C & { at: number }).at = this.#batch.ids.length;
    this.#batch.control.push(frame as C & { at: number });
    if (transfer === undefined) return;
    if (transfer instanceof ArrayBuffer) this.#transfer.push(transfer);
    else for (const buffer of transfer) this.#transfer.push(buffer);
  }

  /** Adds to the batch's flow-control counts (host → facade: delivered; facade → host: credit). */
  addCredit(bytes: number, items: number): void {
    this.#batch.bytes += bytes;
    this.#batch.items += items;
  }

  /** Whether the batch should go now rather than at the end of the turn. */
  get full(): boolean {
    return this.#batch.ids.length >= FULL_BATCH_ITEMS || this.#payload >= FULL_BATCH_BYTES;
  }

  /** Payload bytes added so far. */
  get bytes(): number {
    return this.#payload;
  }

  get empty(): boolean {
    const b = this.#batch;
    return b.ids.length === 0 && b.control.length === 0 && b.bytes === 0 && b.items === 0;
  }

  /** Hands over what was collected and starts afresh. */
  take(): [Batch<C>, ArrayBuffer[]] {
    const batch = this.#batch;
    const transfer = this.#transfer;
    if (this.#slab !== undefined) {
      batch.slab = this.#slab.buffer as ArrayBuffer;
      transfer.push(batch.slab);
    }
    this.#batch = emptyBatch();
    this.#transfer = [];
    this.#slab = undefined;
    this.#slabUsed = 0;
    this.#payload = 0;
    return [batch, transfer];
  }
}

/**
 * An item as the reader hands it over: text, a moved ArrayBuffer, or a view of slab bytes (valid
 * for good: the slab belongs to this batch alone).
 */
export type Item = string | ArrayBuffer | Uint8Array;

const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;
/** Made when first needed: a DOM emulation may have no TextDecoder (and never needs one here). */
let utf8: TextDecoder | undefined;

/** ASCII bytes as a string: on Node one copy (latin1); elsewhere TextDecoder, the same for ASCII. */
function asciiString(bytes: ArrayBuffer): string {
  if (NodeBuffer !== undefined) return NodeBuffer.from(bytes).toString('latin1');
  utf8 ??= new TextDecoder();
  return utf8.decode(bytes);
}

/** Allocated once for each batch that brought ArrayBuffers (see {@link readBatch}). */
// biome-ignore lint/correctness/noUnusedVariables: written, never read, so that no compiler drops the allocation
let gcNudge: ArrayBuffer | undefined;

/**
 * Walks a batch in order: items and frames interleaved exactly as they were added.
 *
 * ArrayBuffers that arrive by transfer cost this thread no allocation, and V8 checks whether its
 * young generation holds enough ArrayBuffer memory to free (a cheap scavenge) only when one is
 * allocated. A stream of moved buffers and nothing else (large binary or text) then piled up
 * until V8's external memory limit ran a mark-compact on this thread, pausing it again and again
 * (docs/performance.md "Garbage collection"). Allocating one small ArrayBuffer per such batch
 * gives V8 its check.
 */
export function readBatch<C>(
  batch: Batch<C>,
  onItem: (id: number, data: Item) => void,
  onControl: (frame: C) => void,
): void {
  const { ids, data, control, slab } = batch;
  let offset = 0;
  let next = 0;
  let moved = slab !== undefined;
  const item = (i: number) => {
    const d = data[i];
    if (typeof d === 'number') {
      onItem(ids[i] as number, new Uint8Array(slab as ArrayBuffer, offset, d));
      offset += d;
    } else if (typeof d === 'string') {
      onItem(ids[i] as number, d);
    } else if (d instanceof ArrayBuffer) {
      moved = true;
      onItem(ids[i] as number, d);
    } else {
      moved = true;
      onItem(ids[i] as number, asciiString((d as AsciiText).ascii));
    }
  };
  for (const frame of control) {
    for (; next < frame.at; next++) item(next);
    onControl(frame);
  }
  for (; next < ids.length; next++) item(next);
  if (moved) gcNudge = new ArrayBuffer(1);
}

/** Whether a value received from a port has the shape of a batch (a port may carry anything). */
export const isBatch = (value: unknown): value is Batch<unknown> =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as Batch<unknown>).ids) &&
  Array.isArray((value as Batch<unknown>).data) &&
  Array.isArray((value as Batch<unknown>).control);
