/** qq-socket-worker for browsers and Electron renderers: sockets in a Web Worker or a SharedWorker. */
import { browserPlatform } from './main/browser-platform.js';
import { makeCreateQQ } from './main/create-qq.js';

/**
 * Creates a `qq` object: the QQ mini-program WebSocket API with every socket in a dedicated Web
 * Worker (backend 'worker', the default), in a SharedWorker that every tab of the origin reaches
 * ('shared'; `connectSocket({ share: true })` shares one socket between tabs), or on this thread
 * ('inline'). Handshake headers cannot be set by browsers: they are ignored with one console.warn.
 * @throws TypeError when an option has the wrong type or value.
 */
export const createQQ = makeCreateQQ(browserPlatform);
export type * from './shared/types.js';
