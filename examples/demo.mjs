// `npm start`: the example code of the original QQ API document (qq.sendSocketMessage and
// qq.closeSocket pages), run unchanged through qq-socket-worker against an echo server embedded
// here on 127.0.0.1. The socket lives in a worker thread; this thread only sees the events.
import 'qq-socket-worker/global';
import { WebSocketServer } from 'ws';

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await new Promise((resolve) => server.once('listening', resolve));
server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
});
const url = `ws://127.0.0.1:${server.address().port}/demo`;
const log = (what, detail) => console.log(`${what.padEnd(16)} ${detail === undefined ? '' : JSON.stringify(detail)}`);
log('echo server', url);

// ---- From the document (the only change: `let` where it said `const`, which could never be reassigned).
let socketOpen = false;
let socketMsgQueue = [];
qq.connectSocket({
  url,
  header: { 'content-type': 'application/json' },
  protocols: ['protocol1'],
  success: (res) => log('connectSocket', res),
});

qq.onSocketOpen((res) => {
  log('onSocketOpen', { header: res.header['sec-websocket-protocol'], costMs: Math.round(res.profile.cost) });
  socketOpen = true;
  for (let i = 0; i < socketMsgQueue.length; i++) {
    sendSocketMessage(socketMsgQueue[i]);
  }
  socketMsgQueue = [];
});

function sendSocketMessage(msg) {
  if (socketOpen) {
    qq.sendSocketMessage({ data: msg, success: (res) => log('sent', { msg: String(msg), ...res }) });
  } else {
    socketMsgQueue.push(msg);
  }
}
// ---- End of the document's code.

// Queued before the socket is open; the document's pattern sends them on open.
sendSocketMessage('hello');
sendSocketMessage('你好, QQ');
sendSocketMessage(new Uint8Array([1, 2, 3]).buffer);

let received = 0;
qq.onSocketMessage((res) => {
  log('onSocketMessage', typeof res.data === 'string' ? res.data : `ArrayBuffer(${res.data.byteLength})`);
  if (++received === 3) qq.closeSocket({ code: 1000, reason: 'demo done', success: (r) => log('closeSocket', r) });
});
qq.onSocketError((res) => log('onSocketError', res));
qq.onSocketClose(async (res) => {
  log('onSocketClose', res);
  await qq.destroy();
  server.close();
  log('done', 'host ended, server closed');
});
