/**
 * The browser socket adapter: a {@link SocketFactory} over the native WebSocket. Browsers hide
 * the handshake (no headers, no TCP options) and the reasons of failures, and offer no way to
 * stop reading: what the spec says of those is adapted here.
 */
import { clock, setTimeout } from '../shared/timers.js';
import { utf8ByteLength } from '../shared/validate.js';
import { layered } from './layers.js';
import type { HostSocket, SocketFactory } from './socket.js';

/**
 * How often a socket whose WebSocket still buffers sends is asked again (browsers have no event
 * for it): bufferedAmount lags by at most this.
 */
const BUFFERED_POLL_MS = 10;

/** ws's words for it, so that both runtimes say the same. */
const MAX_PAYLOAD_EXCEEDED = 'Max payload size exceeded';

/** Whether a message is over `max` bytes; text is measured only when it could be (≤ 3 bytes a unit). */
const tooLarge = (data: string | ArrayBuffer, max: number) =>
  typeof data === 'string' ? data.length * 3 > max && utf8ByteLength(data) > max : data.byteLength > max;

/** One socket over the native WebSocket; {@link browserSocketFactory} adds the layers of layers.ts. */
const webSocket: SocketFactory = (frame, config, handlers) => {
  const ws = new WebSocket(frame.url, frame.protocols);
  ws.binaryType = 'arraybuffer';
  let opened = false;
  /** A message over maxPayload ended the connection: nothing after it is delivered. */
  let refused = false;
  ws.onopen = () => {
    if (frame.protocols.length > 0 && ws.protocol === '') {
      // The server picked none of the protocols asked for: the handshake fails (RFC 6455 4.1), as
      // Chromium and Node fail it; Firefox and WebKit open the connection anyway.
      ws.onmessage = null;
      ws.onerror = null;
      ws.onclose = () => handlers.close(1006, '');
      handlers.error(`WebSocket connection to '${frame.url}' failed`);
      ws.close();
      return;
    }
    opened = true;
    handlers.open({}, ws.protocol, clock());
  };
  ws.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
    const { data } = event;
    if (refused) return;
    if (tooLarge(data, config.maxPayload)) {
      // The browser has read it already; what the spec asks is that the task sees 1009 (Node
      // closes with 1009 on the wire too, which a script may not send: 1000 goes instead).
      refused = true;
      handlers.error(MAX_PAYLOAD_EXCEEDED, 1009);
      ws.close(1000, MAX_PAYLOAD_EXCEEDED);
      return;
    }
    handlers.message(data); // a binary message's ArrayBuffer is its own: it is moved, not copied
  };
  // The browser's error event carries no reason; say what we know.
  ws.onerror = () => handlers.error(opened ? 'WebSocket error' : `WebSocket connection to '${frame.url}' failed`);
  // Firefox closes a connection whose TLS handshake failed (an untrusted certificate) with 1015,
  // a code never sent in a frame; Chromium and WebKit say 1006, as Node does: no frame came.
  ws.onclose = (event: CloseEvent) => handlers.close(event.code === 1015 ? 1006 : event.code, event.reason);
  // The browser takes a send at once and writes it later: what it still holds is reported as
  // part of the task's bufferedAmount (with the send's acknowledgement, so the bytes never drop
  // out of it in between), then polled until it is 0 again.
  let reported = 0;
  let polling = false;
  const report = (): number => {
    const bytes = ws.readyState === WebSocket.CLOSED ? 0 : ws.bufferedAmount;
    if (bytes !== reported) {
      reported = bytes;
      handlers.buffered?.(bytes);
    }
    return bytes;
  };
  const poll = () => {
    polling = report() > 0;
    if (polling) setTimeout(poll, BUFFERED_POLL_MS);
  };
  const socket: HostSocket = {
    send(data, done) {
      try {
        ws.send(data as string | ArrayBufferView<ArrayBuffer>);
      } catch (error) {
        done(error as Error);
        return;
      }
      done();
      if (report() === 0 || polling) return;
      polling = true;
      setTimeout(poll, BUFFERED_POLL_MS);
    },
    close(code, reason) {
      try {
        ws.close(code, reason);
      } catch {
        // Scripts may only send 1000 or 3000–4999: destroy()'s 1001 goes out as 1000.
        ws.close(1000, reason);
      }
    },
    abort() {
      ws.close();
    },
    // No pause/resume: a browser's WebSocket cannot stop reading (see HostSocket.pause).
  };
  return socket;
};

/**
 * The browser socket adapter, with the layers a task's options ask for (layers.ts) (the
 * share pool wraps this one: a shared socket reconnects once for all its holders).
 */
export const browserSocketFactory: SocketFactory = layered(webSocket);
