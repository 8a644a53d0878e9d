/**
 * The send side's counterpart of frame-reader.ts: the host writes the data frames of a batch of
 * sends to a socket itself, in a few large writes, in front of ws's sender.
 *
 * ws writes each frame as its own header and payload chunks (a cork, two writes, an uncork), and
 * keeps both chunks and a callback in the socket's write queue while the kernel's buffer is full:
 * many times a 16-byte send's bytes in host memory per pending send, and a writev syscall per
 * frame (docs/performance.md "Measurements behind the design"). This writer
 * encodes the frames of the current task (RFC 6455 5.2: FIN, opcode, length, a random mask key,
 * the masked payload) into 64 KiB buffers, each written once it is full and the last at the end
 * of the task: a pending send costs its frame's bytes and one array slot, and a batch of small
 * sends one syscall.
 *
 * The socket adapter uses it only where ws writes synchronously (no extension negotiated: ws would
 * compress asynchronously, and a frame written meanwhile would overtake). Everything else ws
 * writes (its close frame, pongs) happens in other tasks, or after {@link FrameWriter.flush}: the
 * adapter flushes before it asks ws to close. So the stream on the wire is in call order.
 */
import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { queueMicrotask } from '../shared/timers.js';
import { MAX_HEADER_BYTES } from './frame-reader.js';

/** bufferutil's signature: `output[offset + i] = source[i] ^ mask[i & 3]` for i < length. */
export type Mask = (source: Uint8Array, mask: Uint8Array, output: Uint8Array, offset: number, length: number) => void;

/** The pure-JS mask, where bufferutil is missing. */
export const jsMask: Mask = (source, mask, output, offset, length) => {
  for (let i = 0; i < length; i++) output[offset + i] = (source[i] as number) ^ (mask[i & 3] as number);
};

/** ws's rule: the native bufferutil where it installs, unless WS_NO_BUFFER_UTIL is set. */
function loadMask(): Mask {
  if (process.env.WS_NO_BUFFER_UTIL) return jsMask;
  try {
    return (createRequire(import.meta.url)('bufferutil') as { mask: Mask }).mask;
  } catch {
    return jsMask;
  }
}
const nativeOrJsMask = loadMask();

/** Mask keys come from a pool of random bytes, refilled when used up (as ws does). */
const POOL_BYTES = 8 * 1024;
const pool = Buffer.alloc(POOL_BYTES);
let poolAt = POOL_BYTES;

/**
 * Output buffers are filled, written when the next frame does not fit, and followed by a fresh
 * one (never grown and copied). A task's first is small (a round trip's one message must not cost
 * a 64 KiB allocation, and its GC); each next one is twice as large, up to CHUNK_BYTES, so a
 * flood goes out in 64 KiB writes. A larger frame gets a buffer of its own size.
 */
const FIRST_BYTES = 1024;
const CHUNK_BYTES = 64 * 1024;

/** What the writer writes to: a net or TLS socket. */
export interface FrameTarget {
  write(chunk: Uint8Array, callback: (error?: Error | null) => void): boolean;
}

export class FrameWriter {
  readonly #target: FrameTarget;
  readonly #mask: Mask;
  #out: Buffer | undefined;
  #used = 0;
  /** The size of the next output buffer. */
  #size = FIRST_BYTES;
  /** One callback per frame in `#out`, run once the write is done (with its error, if any). */
  #done: Array<(error?: Error | null) => void> = [];
  #queued = false;

  /** `mask`: how payloads are masked (tests run both the native and the JS one). */
  constructor(target: FrameTarget, mask: Mask = nativeOrJsMask) {
    this.#target = target;
    this.#mask = mask;
  }

  /** Queues one data frame; `done` runs once it was handed to the network, or with the error. */
  add(data: string | Uint8Array, done: (error?: Error | null) => void): void {
    const text = typeof data === 'string';
    const length = text ? Buffer.byteLength(data) : data.byteLength;
    const out = this.#reserve(MAX_HEADER_BYTES + length);
    let at = this.#used;
    out[at] = 0x80 | (text ? 0x1 : 0x2);
    if (length < 126) {
      out[at + 1] = 0x80 | length;
      at += 2;
    } else if (length < 65536) {
      out[at + 1] = 0x80 | 126;
      out.writeUInt16BE(length, at + 2);
      at += 4;
    } else {
      out[at + 1] = 0x80 | 127;
      out.writeUInt32BE(Math.floor(length / 2 ** 32), at + 2);
      out.writeUInt32BE(length >>> 0, at + 6);
      at += 10;
    }
    if (poolAt === POOL_BYTES) {
      randomFillSync(pool);
      poolAt = 0;
    }
    const key = pool.subarray(poolAt, poolAt + 4);
    poolAt += 4;
    out.set(key, at);
    at += 4;
    if (text) {
      out.write(data, at, length, 'utf8');
      this.#mask(out.subarray(at, at + length), key, out, at, length); // in place
    } else {
      this.#mask(data, key, out, at, length);
    }
    this.#used = at + length;
    this.#done.push(done);
    if (!this.#queued) {
      this.#queued = true;
      queueMicrotask(this.flush);
    }
  }

  /** Writes what was queued now (before anything else is written to the socket). */
  flush = (): void => {
    this.#queued = false;
    this.#write();
    this.#size = FIRST_BYTES;
  };

  #write(): void {
    const out = this.#out;
    if (out === undefined) return;
    const done = this.#done;
    const chunk = out.subarray(0, this.#used);
    this.#out = undefined;
    this.#used = 0;
    this.#done = [];
    this.#target.write(chunk, (error) => {
      for (const fn of done) fn(error);
    });
  }

  /** An output buffer with room for `n` more bytes: this one, or a fresh one once it is written. */
  #reserve(n: number): Buffer {
    const out = this.#out;
    if (out !== undefined && this.#used + n <= out.length) return out;
    this.#write();
    const fresh = Buffer.allocUnsafe(Math.max(this.#size, n));
    this.#size = Math.min(this.#size * 2, CHUNK_BYTES);
    this.#out = fresh;
    return fresh;
  }
}
