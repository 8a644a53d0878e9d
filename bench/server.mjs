// The bench's peer, in its own process on 127.0.0.1: prints "PORT <n>", then serves
//   /flood?size=<bytes>&kind=text|binary&count=<n>[&seq=1][&ms=<n>]  n pre-framed messages (for at most
//        ms milliseconds), written straight
//        onto the socket as fast as TCP takes them (one cached chunk, so the server costs next to
//        nothing: on two cores it must not take the CPU the client designs compete for). With
//        seq=1 each carries its sequence number (binary: uint32 BE at byte 0; text: 10 digits).
//   /book?count=<n>&symbols=<k>  n JSON order-book deltas (~300 B) over k symbols, pre-framed as
//        /flood's are, then the text {"e":"done"}.
//   /ticks?rate=<n>&symbols=<k>  a live feed of JSON ticks (~600 B: a price and a 20-level book),
//        n a second over k symbols, each stamped with its send time (`at`, Date.now()), written
//        every 2 ms as the clock says they are due, as an exchange's feed arrives: the browser
//        bench's tick rows measure how old the newest tick a page shows is.
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
  // ms=<n>: stop sending after n ms (the socket stays open), so that a page whose timers the
  // flood starves still gets to the end of its run.
  const until = url.searchParams.has('ms') ? performance.now() + Number(url.searchParams.get('ms')) : Infinity;
  const socket = ws._socket;
  const perChunk = Math.max(1, Math.floor((256 * 1024) / (size + 14)));
  for (let sent = 0; sent < count && !socket.destroyed && performance.now() < until; ) {
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

/** `n` order-book deltas over `symbols` symbols, framed, from sequence `first`. */
function bookChunk(symbols, first, n) {
  const level = (p, q) => `["${p.toFixed(8)}","${q.toFixed(8)}"]`;
  const frames = [];
  for (let i = first; i < first + n; i++) {
    const bids = [0, 1, 2].map((j) => level(27123.45 - j * 0.01 - (i % 7) * 0.01, 0.0123 + j));
    const asks = [0, 1, 2].map((j) => level(27123.46 + j * 0.01 + (i % 5) * 0.01, 0.5 + j));
    const text = `{"e":"depthUpdate","E":${1700000000000 + i},"s":"SYM${i % symbols}","U":${i},"u":${i},"b":[${bids}],"a":[${asks}]}`;
    const body = Buffer.from(text);
    frames.push(header('text', body.length), body);
  }
  return Buffer.concat(frames);
}

async function book(ws, url) {
  const count = Number(url.searchParams.get('count'));
  const symbols = Number(url.searchParams.get('symbols'));
  const socket = ws._socket;
  const perChunk = 1000;
  const key = `book/${symbols}`;
  const bytes = cached.get(key) ?? bookChunk(symbols, 0, perChunk);
  cached.set(key, bytes);
  for (let sent = 0; sent < count && !socket.destroyed; sent += perChunk) {
    if (!socket.write(bytes)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  if (!socket.destroyed) ws.send('{"e":"done"}');
}

/** Books of 20 levels a side, a few to pick from, serialized once: a tick's bulk. */
const BOOKS = Array.from({ length: 8 }, (_, b) => {
  const level = (i, side) => [Number((100 + side * (i + 1) * 0.01).toFixed(3)), 100 + ((b * 37 + i * 11) % 900)];
  return JSON.stringify({
    bids: Array.from({ length: 20 }, (_, i) => level(i, -1)),
    asks: Array.from({ length: 20 }, (_, i) => level(i, 1)),
  });
});

function ticks(ws, url) {
  const rate = Number(url.searchParams.get('rate'));
  const symbols = Number(url.searchParams.get('symbols'));
  const socket = ws._socket;
  const prices = Array.from({ length: symbols }, () => 100);
  const start = performance.now();
  let seq = 0;
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer);
    const due = Math.floor(((performance.now() - start) * rate) / 1000);
    if (due <= seq) return;
    const at = Date.now();
    const frames = [];
    for (; seq < due; seq++) {
      const s = seq % symbols;
      prices[s] = Math.max(1, prices[s] + ((seq * 7919) % 21) / 100 - 0.1);
      const body = Buffer.from(
        `{"seq":${seq},"at":${at},"symbol":"SYM${s}","price":${prices[s].toFixed(3)},"book":${BOOKS[seq % BOOKS.length]}}`,
      );
      frames.push(header('text', body.length), body);
    }
    socket.write(Buffer.concat(frames));
  }, 2);
  ws.on('close', () => clearInterval(timer));
}

wss.on('connection', (ws, req) => {
  ws.on('error', () => {});
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/flood') {
    void flood(ws, url);
  } else if (url.pathname === '/book') {
    void book(ws, url);
  } else if (url.pathname === '/ticks') {
    ticks(ws, url);
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
