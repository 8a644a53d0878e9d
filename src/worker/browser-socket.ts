/**
 * The browser socket adapter: a {@link SocketFactory} over the native WebSocket. Browsers hide
 * the handshake (no headers, no TCP options) and the reasons of failures, and offer no way to
 * stop reading: what the spec says of those is adapted here.
 */
import type { HostSocket, SocketFactory } from './host.js';
import { clock } from './run-host.js';

export const browserSocketFactory: SocketFactory = (frame, _config, handlers) => {
  const ws = new WebSocket(frame.url, frame.protocols);
  ws.binaryType = 'arraybuffer';
  let opened = false;
  ws.onopen = () => {
    opened = true;
    handlers.open({}, ws.protocol, clock());
  };
  ws.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
    const { data } = event;
    handlers.message(typeof data === 'string' ? data : new Uint8Array(data));
  };
  // The browser's error event carries no reason; say what we know.
  ws.onerror = () => handlers.error(opened ? 'WebSocket error' : `WebSocket connection to '${frame.url}' failed`);
  ws.onclose = (event: CloseEvent) => handlers.close(event.code, event.reason);
  const socket: HostSocket = {
    send(data, done) {
      try {
        ws.send(data as string | ArrayBufferView<ArrayBuffer>);
        done();
      } catch (error) {
        done(error as Error);
      }
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
    // A browser WebSocket cannot stop reading: flow control only bounds what is queued here.
    pause() {},
    resume() {},
  };
  return socket;
};
