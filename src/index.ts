/** qq-socket-worker: the QQ mini-program WebSocket API, with every socket off the main thread. */
export { createQQ } from './main/create-qq.js';
export type * from './shared/types.js';
