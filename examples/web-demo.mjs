// `npm run demo:web`: serves a page on 127.0.0.1 with a live feed (~30,000 JSON ticks a second,
// each a price and a 20-level order book, ~600 bytes). Open it in two tabs: with the shared
// backend both show the same feed over ONE socket (the page shows how many the server holds),
// while a chart plots the main thread's frame time. Switch to "main-thread WebSocket" and give
// the page a heavy UI's work to feel the difference: the feed falls behind.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const root = fileURLToPath(new URL('..', import.meta.url));
const TICKS_PER_BATCH = 300; // every 10 ms: 30,000 messages a second
const LEVELS = 20;

const server = http.createServer((req, res) => {
  const path = normalize(new URL(req.url, 'http://x').pathname);
  const file = path === '/' ? 'examples/web-demo.html' : path.startsWith('/dist/') ? path.slice(1) : undefined;
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
  const sockets = feed.clients.size;
  for (let i = 0; i < TICKS_PER_BATCH; i++) {
    price = Math.max(1, price + (Math.random() - 0.5) * 0.2);
    ticks.push(JSON.stringify({ seq: seq++, at, symbol: 'QQ', price: Number(price.toFixed(3)), sockets, book }));
  }
  for (const client of feed.clients) for (const tick of ticks) client.send(tick);
}, 10);

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(
    `qq-socket-worker web demo: http://127.0.0.1:${server.address().port}/  (open it in two tabs; Ctrl+C to stop)`,
  );
});
