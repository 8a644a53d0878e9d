/**
 * The layers a task's options add around a runtime's socket, from the wire up: `keepalive`
 * watches each connection, `reconnect` makes a socket that outlives its connections, and
 * `pipeline` runs the task's stage over whatever connection is current. The share pool goes on
 * top (share-pool.ts), so that a shared socket reconnects, is probed and runs its stage once for
 * all its holders. A task that asks for none of them gets the runtime's socket itself.
 */
import { withKeepalive } from './keepalive.js';
import { withPipeline } from './pipeline.js';
import { withReconnect } from './reconnect.js';
import type { SocketFactory } from './socket.js';

export const layered = (factory: SocketFactory): SocketFactory => withPipeline(withReconnect(withKeepalive(factory)));
