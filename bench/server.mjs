// The bench's peer, in its own process on 127.0.0.1: prints "PORT <n>", then serves
//   /flood?size=<bytes>&kind=text|binary&count=<n>[&seq=1]  n pre-framed messages, written straight
//        onto the socket as fast as TCP takes them (one cached chunk, so the server costs next to
//        nothing: on two cores it must not take the CPU the client designs compete for). With
//        seq=1 each carries its sequence number (binary: uint32 BE at byte 0; text: 10 digits).
//   /echo  echoes every message.
//   /sink  counts messages; answers "got:<n>" to the text "end".
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 1 << 30 });
wss.on('listening', () => console.log(`PORT ${wss.address().port}`));

function header(kind, size) {
  const opcode = kind === 'text' ? 0x81 : 0x82;
  if (size < 126) return Buffer.from([opcode, size]);
  if (size < 65536) return Buffer.from([opcode, 126, size >> 8, size & 0xff]);
  const h = Buffer.alloc(10);
  h[0] = opcode;
  h[1] = 127;
  h.writeBigUInt64BE(BigInt(size), 2);
  return h;
}

/** A chunk of `n` frames starting at sequence `first`. */
function chunk(kind, size, first, n) {
  const head = header(kind, size);
  const frame = head.length + size;
  const out = Buffer.alloc(frame * n, kind === 'text' ? 0x78 : 0xab);
  for (let i = 0; i < n; i++) {
    const at = i * frame;
    head.copy(out, at);
    const seq = first + i;
    if (kind === 'text' && size >= 10) out.write(String(seq).padStart(10, '0'), at + head.length, 'latin1');
    else if (kind === 'binary' && size >= 4) out.writeUInt32BE(seq >>> 0, at + head.length);
  }
  return out;
}

const cached = new Map();
async function flood(ws, url) {
  const size = Number(url.searchParams.get('size'));
  const kind = url.searchParams.get('kind');
  const count = Number(url.searchParams.get('count'));
  const seq = url.searchParams.get('seq') === '1';
  const socket = ws._socket;
  const perChunk = Math.max(1, Math.floor((256 * 1024) / (size + 14)));
  for (let sent = 0; sent < count && !socket.destroyed; ) {
    const n = Math.min(perChunk, count - sent);
    let bytes;
    if (seq) {
      bytes = chunk(kind, size, sent, n);
    } else {
      const key = `${kind}/${size}/${n}`;
      bytes = cached.get(key) ?? chunk(kind, size, 0, n);
      cached.set(key, bytes);
    }
    const ok = socket.write(bytes);
    sent += n;
    if (!ok) await new Promise((resolve) => socket.once('drain', resolve));
  }
}

wss.on('connection', (ws, req) => {
  ws.on('error', () => {});
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/flood') {
    void flood(ws, url);
  } else if (url.pathname === '/echo') {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  } else if (url.pathname === '/sink') {
    let got = 0;
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.length === 3 && data.toString() === 'end') ws.send(`got:${got}`);
      else got++;
    });
  }
});
