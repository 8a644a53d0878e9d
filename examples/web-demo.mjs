// `npm run demo:web`: serves a page on 127.0.0.1 with a live feed of JSON ticks, each a price and
// a 20-level order book (~600 bytes), at 5,000 or 30,000 a second as the page asks
// (`/feed?rate=`). Open it in two tabs: with the shared backend both show the same feed over ONE
// socket (the page shows how many the server holds, from `/stats`), while a chart plots the main
// thread's frame time. Switch to "main-thread WebSocket" and give the page a heavy UI's work to
// feel the difference: the feed falls behind. At 30,000 a second every way of receiving falls
// behind on a small machine: that rate is more than it can take in at all.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const root = fileURLToPath(new URL('..', import.meta.url));
const BATCH_MS = 10;
const RATES = [5_000, 30_000];
const MAX_PER_BATCH = (Math.max(...RATES) * BATCH_MS) / 1000;
const LEVELS = 20;

const server = http.createServer((req, res) => {
  const path = normalize(new URL(req.url, 'http://x').pathname);
  if (path === '/drop') {
    // Every feed connection cut without a close frame, as a crash or a dead network would.
    for (const client of feed.clients) client.terminate();
    return res.writeHead(204).end();
  }
  if (path === '/stats') {
    return res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ sockets: feed.clients.size }));
  }
  const file =
    path === '/'
      ? 'examples/web-demo.html'
      : path.startsWith('/dist/') || path === '/examples/web-demo.pipeline.js'
        ? path.slice(1)
        : undefined;
  if (file === undefined) return res.writeHead(404).end();
  try {
    const type =
      extname(file) === '.html' ? 'text/html' : extname(file) === '.js' ? 'text/javascript' : 'application/json';
    res.writeHead(200, { 'content-type': type }).end(readFileSync(join(root, file)));
  } catch {
    res.writeHead(404).end();
  }
});

const feed = new WebSocketServer({ server, path: '/feed' });
/** Each client's share of a batch: every (MAX_PER_BATCH / its rate)th tick. */
const every = new WeakMap();
feed.on('connection', (client, req) => {
  const rate = Number(new URL(req.url, 'http://x').searchParams.get('rate'));
  every.set(client, MAX_PER_BATCH / ((RATES.includes(rate) ? rate : RATES[1]) * (BATCH_MS / 1000)));
});
let price = 100;
let seq = 0;
setInterval(() => {
  if (feed.clients.size === 0) return;
  const ticks = [];
  const level = (i, side) => [Number((price + side * (i + 1) * 0.01).toFixed(3)), Math.round(Math.random() * 1000)];
  const book = {
    bids: Array.from({ length: LEVELS }, (_, i) => level(i, -1)),
    asks: Array.from({ length: LEVELS }, (_, i) => level(i, 1)),
  };
  const at = Date.now();
  for (let i = 0; i < MAX_PER_BATCH; i++) {
    price = Math.max(1, price + (Math.random() - 0.5) * 0.2);
    ticks.push(JSON.stringify({ seq: seq++, at, symbol: 'QQ', price: Number(price.toFixed(3)), book }));
  }
  for (const client of feed.clients) {
    const step = every.get(client) ?? 1;
    for (let i = 0; i < ticks.length; i += step) client.send(ticks[i]);
  }
}, BATCH_MS);

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(
    `qq-socket-worker web demo: http://127.0.0.1:${server.address().port}/  (open it in two tabs; Ctrl+C to stop)`,
  );
});
