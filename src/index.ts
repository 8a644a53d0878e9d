/** qq-socket-worker: the QQ mini-program WebSocket API, with every socket off the main thread. */
import { makeCreateQQ } from './main/create-qq.js';
import { nodePlatform } from './main/node-platform.js';

/**
 * Creates a `qq` object: the QQ mini-program WebSocket API with every socket in a host off the
 * main thread (a worker thread under Node). Each call returns an independent instance (its own
 * connection limit, binding and host).
 * @throws TypeError when an option has the wrong type or value.
 */
export const createQQ = makeCreateQQ(nodePlatform);
export type * from './shared/types.js';
