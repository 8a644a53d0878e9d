/**
 * `connectSocket({ keepalive })`: a socket that has heard nothing from the server for `interval`
 * ms is probed (a ping frame where the runtime can send one, else the `message` text); one that
 * still hears nothing within `timeout` after the probe is dropped, as a drop it is: onError
 * (`keepalive timeout: ...`), then the close the adapter reports (1006), or a reconnect. A silent
 * drop (NAT timeout, sleep, a dead proxy) otherwise fires nothing for minutes.
 *
 * It runs in the host, on the host's timers: a frozen or throttled page neither makes a healthy
 * socket look dead nor keeps a dead one alive. Built as a {@link SocketFactory} around the real
 * one; without `keepalive` it hands the frame straight on.
 */
import { staying } from '../shared/errors.js';
import { clearTimeout, now, setTimeout } from '../shared/timers.js';
import type { HostSocket, SocketFactory, SocketHandlers } from './socket.js';

/**
 * A deadline timer that fires this much later than asked was held up (a blocked thread, a
 * machine that slept): frames that waited meanwhile are read before it decides.
 */
const LATE_MS = 50;

export function withKeepalive(inner: SocketFactory): SocketFactory {
  return (frame, config, handlers) => {
    const policy = frame.keepalive;
    if (policy === undefined) return inner(frame, config, handlers);
    const { interval, timeout, message } = policy;
    let heard = now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    /** The task heard its close (a keepalive timeout reports it at once). */
    let ended = false;
    const stop = () => {
      done = true;
      clearTimeout(timer);
      timer = undefined;
    };
    const alive = () => {
      heard = now();
    };
    /**
     * Flow control stopped reading (the page is behind): the server's frames wait in the kernel,
     * and its silence says nothing. The watch counts from the resume.
     */
    let paused = false;
    /** Looks again once `interval` ms have passed since the server was last heard. */
    const watch = () => {
      if (done) return;
      if (paused) alive();
      const quiet = now() - heard;
      if (quiet < interval) {
        timer = setTimeout(watch, interval - quiet);
        return;
      }
      const probedAt = now();
      if (socket.ping !== undefined) socket.ping();
      else if (message !== undefined) socket.send(message, () => {});
      const due = probedAt + timeout;
      const decide = (late: boolean) => {
        if (done) return;
        if (heard >= probedAt || paused) {
          watch();
          return;
        }
        if (late) {
          // Held up: read what waited first, then decide.
          timer = setTimeout(() => decide(false), 0);
          return;
        }
        stop();
        handlers.error(staying.keepaliveTimeout(Math.round(now() - heard)));
        // A drop, whatever the runtime's abort does (a browser can only start a closing
        // handshake, which a dead peer never finishes): the task hears 1006 now.
        socket.abort();
        ended = true;
        handlers.close(1006, '');
      };
      timer = setTimeout(() => decide(now() - due > LATE_MS), timeout);
    };
    const socket: HostSocket = inner(frame, config, {
      open(header, protocol, connectEnd) {
        alive();
        timer = setTimeout(watch, interval);
        handlers.open(header, protocol, connectEnd);
      },
      message(data) {
        alive();
        if (!ended) handlers.message(data);
      },
      pong() {
        alive();
        handlers.pong?.();
      },
      error(errMsg, closeCode, status) {
        if (!done) handlers.error(errMsg, closeCode, status);
      },
      close(code, reason) {
        stop();
        if (!ended) handlers.close(code, reason);
        ended = true;
      },
      buffered: (bytes) => handlers.buffered?.(bytes),
    } satisfies SocketHandlers);
    if (socket.pause === undefined || socket.resume === undefined) return socket;
    const { pause, resume } = socket;
    return Object.assign(Object.create(socket) as HostSocket, {
      pause() {
        paused = true;
        pause.call(socket);
      },
      resume() {
        paused = false;
        alive();
        resume.call(socket);
      },
    });
  };
}
