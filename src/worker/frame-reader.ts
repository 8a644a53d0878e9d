/**
 * A fast path in front of ws's receiver for the frames a flood is made of.
 *
 * ws's receiver costs several times what a small message needs on the host (two Buffer views per
 * frame, a third for the payload, an event), most of the host thread's time in a receive flood
 * (docs/performance.md "Measurements behind the design"). This reader walks each socket chunk
 * itself and takes out the frames that need nothing but a read: a whole, unfragmented, unmasked
 * text or binary frame with no RSV bit, within `maxPayload`, and complete in the chunk. Every
 * other byte goes to ws's receiver unchanged and in
 * order: control frames, fragmented messages, frames that span chunks, anything malformed. So ws
 * sees exactly the stream it would have seen, minus whole frames taken at frame boundaries, and
 * keeps every rule of RFC 6455 it enforces (close codes, 1002, 1007, 1009, pings).
 *
 * The reader turns itself off for good (ws gets everything) once it hands ws a close frame or a
 * frame ws will fail (a compressed frame's RSV1 bit counts as one), or ws stops taking bytes. The
 * socket adapter does not use it at all once an extension was negotiated: ws inflates
 * asynchronously, and a frame taken meanwhile would overtake the message being inflated.
 *
 * Text: Node decodes invalid UTF-8 to U+FFFD (WHATWG), so a decoded payload without U+FFFD was
 * valid. One with U+FFFD goes to ws, which checks it and either delivers it or closes with 1007.
 */

import { isAscii } from 'node:buffer';
import type { Writable } from 'node:stream';
import { ASCII_TEXT_FROM_BYTES, type AsciiText } from '../shared/batch.js';
import type { Received } from './socket.js';

/** What the reader serves. */
export interface FrameSink {
  /**
   * A message the reader took: text as {@link textOf} makes it, binary as a view of the chunk
   * (copy it now).
   */
  message(data: Exclude<Received, ArrayBuffer>): void;
  /** Hands bytes to ws's receiver; false once ws takes no more (failed, or a close frame came). */
  delegate(bytes: Buffer): boolean;
}

/**
 * Buffer's own UTF-8 decoder, which `toString('utf8', start, end)` reaches after argument checks
 * (a part of a small message's time worth skipping: docs/performance.md). Undocumented;
 * toString where a runtime lacks it.
 */
const utf8Slice: (this: Buffer, start: number, end: number) => string =
  (Buffer.prototype as unknown as { utf8Slice?: (start: number, end: number) => string }).utf8Slice ??
  function (this: Buffer, start, end) {
    return this.toString('utf8', start, end);
  };

/**
 * The text in `bytes[start, end)` as the host hands it on: large ASCII text as its bytes (batch.ts,
 * ASCII_TEXT_FROM_BYTES), anything else decoded (invalid UTF-8 to U+FFFD).
 */
export function textOf(bytes: Buffer, start = 0, end = bytes.length): string | AsciiText<Uint8Array> {
  if (end - start >= ASCII_TEXT_FROM_BYTES) {
    const view = bytes.subarray(start, end);
    if (isAscii(view)) return { ascii: view };
  }
  return utf8Slice.call(bytes, start, end);
}

/** RFC 6455 5.2: the largest header (2 + 8 length + 4 mask). */
export const MAX_HEADER_BYTES = 14;
const OPCODE_CONTINUATION = 0x0;
const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;

export class FrameReader {
  readonly #sink: FrameSink;
  readonly #maxPayload: number;
  /** ws takes every byte from now on. */
  #off = false;
  /** Bytes of a frame being handed to ws that have not arrived yet. */
  #owed = 0;
  /** A data frame without FIN went to ws: its continuations go there too. */
  #fragmented = false;
  /** The start of a header cut by the end of a chunk (already handed to ws). */
  #cut: Buffer | undefined;
  // The header #parse read last.
  #fin = false;
  #opcode = 0;
  #headerBytes = 0;
  #length = 0;
  #taken = 0;

  constructor(sink: FrameSink, maxPayload: number) {
    this.#sink = sink;
    this.#maxPayload = maxPayload;
  }

  /** Messages the reader took itself (the rest went to ws), for stats and tests. */
  get taken(): number {
    return this.#taken;
  }

  /** Whether ws now gets every byte. */
  get off(): boolean {
    return this.#off;
  }

  /** Reads one socket chunk. */
  write(chunk: Buffer): void {
    if (this.#off) {
      this.#sink.delegate(chunk);
      return;
    }
    let at = 0;
    if (this.#owed > 0) {
      at = Math.min(this.#owed, chunk.length);
      this.#owed -= at;
      if (!this.#hand(chunk.subarray(0, at))) return;
    }
    if (this.#cut !== undefined && at < chunk.length) {
      // A header cut by the last chunk's end: its frame goes to ws, which has its first bytes.
      const cut = this.#cut;
      const head = Buffer.concat([cut, chunk.subarray(at, at + MAX_HEADER_BYTES)]);
      this.#cut = undefined;
      if (!this.#parse(head, 0, head.length)) {
        this.#cut = head;
        this.#hand(chunk.subarray(at));
        return;
      }
      const rest = this.#headerBytes + this.#length - cut.length;
      if (!this.#passOn(chunk, at, at + rest)) return;
      at = Math.min(at + rest, chunk.length);
    }
    this.#read(chunk, at);
  }

  #read(chunk: Buffer, at: number): void {
    const end = chunk.length;
    while (at < end) {
      if (!this.#parse(chunk, at, end)) {
        this.#cut = Buffer.from(chunk.subarray(at));
        this.#hand(chunk.subarray(at));
        return;
      }
      const frameEnd = at + this.#headerBytes + this.#length;
      const taken = frameEnd <= end && this.#take(chunk, at + this.#headerBytes, frameEnd);
      if (!taken && !this.#passOn(chunk, at, frameEnd)) return;
      at = frameEnd;
    }
  }

  /**
   * Delivers the frame just parsed, whose payload is `chunk[start, end)`, if it is a plain one:
   * whole, unfragmented, within maxPayload, binary or text without U+FFFD. RSV bits and a mask
   * are folded into #opcode, so such frames are neither text nor binary here.
   */
  #take(chunk: Buffer, start: number, end: number): boolean {
    if (!this.#fin || this.#fragmented || this.#length > this.#maxPayload) return false;
    let data: Exclude<Received, ArrayBuffer>;
    if (this.#opcode === OPCODE_BINARY) {
      data = chunk.subarray(start, end);
    } else if (this.#opcode === OPCODE_TEXT) {
      data = textOf(chunk, start, end);
      if (typeof data === 'string' && data.includes('\uFFFD')) return false;
    } else {
      return false;
    }
    this.#taken++;
    this.#sink.message(data);
    return true;
  }

  /**
   * Gives ws the frame just parsed, from `at` to `frameEnd` (as much as `chunk` holds): a control
   * frame, a fragment, text with U+FFFD to check, one that goes on past the chunk. After a frame
   * ws closes or fails on, ws gets the rest. False once ws takes no more.
   */
  #passOn(chunk: Buffer, at: number, frameEnd: number): boolean {
    if (!this.#usual()) {
      this.#stop(chunk.subarray(at));
      return false;
    }
    if (this.#opcode === OPCODE_TEXT || this.#opcode === OPCODE_BINARY) this.#fragmented = !this.#fin;
    else if (this.#opcode === OPCODE_CONTINUATION && this.#fin) this.#fragmented = false;
    const handed = Math.min(frameEnd, chunk.length);
    this.#owed = frameEnd - handed;
    return this.#hand(chunk.subarray(at, handed));
  }

  /**
   * Reads the header at `at` into #fin, #opcode, #headerBytes, #length; false if it is cut.
   * A length of 2^32 or more is beyond any Buffer: it reads as Infinity (over maxPayload).
   */
  #parse(bytes: Buffer, at: number, end: number): boolean {
    if (end - at < 2) return false;
    const b0 = bytes[at] as number;
    const b1 = bytes[at + 1] as number;
    let length = b1 & 0x7f;
    let header = 2;
    if (length === 126) {
      header = 4;
      if (end - at < header) return false;
      length = bytes.readUInt16BE(at + 2);
    } else if (length === 127) {
      header = 10;
      if (end - at < header) return false;
      length = bytes.readUInt32BE(at + 2) === 0 ? bytes.readUInt32BE(at + 6) : Number.POSITIVE_INFINITY;
    }
    // RSV bits and a mask (a server must not mask, RFC 6455 5.1) are errors for ws to report:
    // folding them into the opcode makes #usual refuse the frame.
    this.#opcode = (b0 & 0x7f) | (b1 & 0x80);
    this.#fin = (b0 & 0x80) !== 0;
    this.#headerBytes = header;
    this.#length = length;
    return true;
  }

  /**
   * Whether ws would read the frame just parsed without failing or closing (RFC 6455 5.2–5.5):
   * no RSV bit, no mask, within maxPayload, a continuation only inside a fragmented message, a new
   * data frame only outside one, ping and pong unfragmented. After any other frame (a close, or
   * one ws fails the connection on) ws decides everything.
   */
  #usual(): boolean {
    if (this.#length > this.#maxPayload) return false;
    switch (this.#opcode) {
      case OPCODE_CONTINUATION:
        return this.#fragmented;
      case OPCODE_TEXT:
      case OPCODE_BINARY:
        return !this.#fragmented;
      case OPCODE_PING:
      case OPCODE_PONG:
        return this.#fin;
      default:
        return false;
    }
  }

  #hand(bytes: Buffer): boolean {
    if (this.#sink.delegate(bytes)) return true;
    this.#off = true;
    return false;
  }

  #stop(rest: Buffer): void {
    this.#off = true;
    this.#sink.delegate(rest);
  }
}

/**
 * Puts a reader in front of ws's receiver: the chunks ws writes to `receiver` reach the reader,
 * which reads the plain data frames itself and writes every other byte on to the receiver, in
 * order. Returns the reader (for its count), or undefined where `receiver` has no `write`.
 */
export function readInFront(
  receiver: Writable,
  maxPayload: number,
  message: FrameSink['message'],
): FrameReader | undefined {
  if (typeof receiver.write !== 'function') return undefined;
  const write = receiver.write.bind(receiver) as (chunk: Buffer) => boolean;
  // ws pauses the socket when the receiver's write returns false (its buffer is full).
  let flowing = true;
  const reader = new FrameReader(
    {
      message,
      delegate(bytes) {
        flowing = write(bytes) && flowing;
        return receiver.errored === null && !receiver.writableEnded && !receiver.destroyed;
      },
    },
    maxPayload,
  );
  receiver.write = ((chunk: Buffer) => {
    flowing = true;
    reader.write(chunk);
    return flowing;
  }) as Writable['write'];
  return reader;
}
