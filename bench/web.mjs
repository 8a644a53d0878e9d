// `npm run bench:web` (also run by `npm run bench` where Chromium is installed): a page in Debian's
// Chromium receives floods of 16 B, 1 KiB and 64 KiB binary messages through the native
// WebSocket on the main thread, and through qq-socket-worker's `worker` and `shared` backends,
// side by side in one run. Two reference rows: `bare worker`, a dedicated worker with a native
// WebSocket that only counts (it delivers nothing to the page): the ceiling of any design that
// puts the socket in a dedicated worker; and `bare relay`, the least a worker can do to deliver:
// it posts the page each message's ArrayBuffer, batched once a millisecond. Per row: messages/s,
// frames per second (requestAnimationFrame) and main-thread long tasks (PerformanceObserver),
// medians of --runs runs of --seconds each.
//
// Each flood runs on an idle page and on a busy one (--busy: ms of the page's own work in each
// animation frame, as a heavy UI spends them rendering; 12 by default, 0 for idle only). A busy
// page leaves a main-thread WebSocket only the rest of each frame for its message tasks.
//
// Chromium runs with no DevTools client attached, as a user's browser does: the page runs the
// whole bench itself and posts its results back. Under DevTools (Playwright drives Chromium over
// it) the Network domain reports every WebSocket frame, payload included, from pages and dedicated
// workers but not from shared workers, which makes the native and `worker` rows several times
// slower and `shared` look fast. `--cdp` runs the same page under Playwright, to show that.
//
// The tick rows: a live feed of JSON ticks (~600 B, each stamped with its send time) over 10
// symbols at --ticks a second (5,000: what this machine can take in, so each symbol changes ~8
// times a frame; 30,000: more than any design ingests here), to a page busy --tick-busy ms a frame
// (12) that keeps the latest tick per symbol and renders once a frame. The designs: `native +
// parse` (the main thread parses every tick), `worker + parse` (the `worker` backend posts every
// message; the page parses it), `worker + keyed stage` (the stage in bench/tick.pipeline.mjs
// parses in the host and emits each tick's price keyed by symbol, `deliver: 'frame'`), and
// `reference worker` (hand-made: parses, keeps the latest per symbol, posts the changes once a
// frame when the page asks: the ceiling). Per row: ticks parsed a second (ingest), fps, long
// tasks, the age of the newest tick the page shows at each frame (server send time to render,
// p50/p95), deliveries (values the page received) and batches (tasks that delivered them) a
// second, and values skipped a second (replaced by a newer one of their symbol before delivery).
//   npm run bench:web [-- --json] [-- --runs 5] [-- --seconds 2] [-- --sizes 16,1024] [-- --busy 0,12] [-- --designs native,worker]
//                     [-- --ticks 5000,30000] [-- --tick-designs ...] [-- --tick-busy 12] [-- --only floods|ticks] [-- --cdp]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/helpers/chromium-flags.mjs';
import { browserTable, median, tickTable } from './report.mjs';

const TICK_DESIGNS = ['native + parse', 'worker + parse', 'worker + keyed stage', 'reference worker'];
const TICK_SYMBOLS = 10;
const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean' },
    out: { type: 'string', default: 'bench/results-web.json' },
    runs: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '2' },
    sizes: { type: 'string', default: '16,1024,65536' },
    busy: { type: 'string', default: '0,12' },
    designs: { type: 'string', default: 'native,bare worker,bare relay,worker,shared' },
    ticks: { type: 'string', default: '5000,30000' },
    'tick-designs': { type: 'string', default: TICK_DESIGNS.join(',') },
    'tick-busy': { type: 'string', default: '12' },
    only: { type: 'string' },
    cdp: { type: 'boolean' },
  },
  strict: false,
});
/** `--name`'s comma-separated numbers, each checked; a wrong one ends the bench with a message. */
const numbers = (name, ok, what) => {
  const values = String(args[name]).split(',').map(Number);
  if (values.length === 0 || !values.every(ok)) {
    console.error(`bench:web: --${name} must be ${what}, not '${args[name]}'`);
    process.exit(2);
  }
  return values;
};
const sizes = numbers('sizes', (n) => Number.isInteger(n) && n >= 1, 'message sizes in bytes (16,1024,65536)');
const busy = numbers('busy', (n) => Number.isFinite(n) && n >= 0, 'ms of page work a frame (0,12)');
const [runs] = numbers('runs', (n) => Number.isInteger(n) && n >= 1, 'a count of runs');
const [seconds] = numbers('seconds', (n) => Number.isFinite(n) && n > 0, 'seconds a run');
const tickRates = numbers('ticks', (n) => Number.isInteger(n) && n >= 1, 'ticks a second (5000,30000)');
const [tickBusy] = numbers('tick-busy', (n) => Number.isFinite(n) && n >= 0, 'ms of page work a frame (12)');
if (args.only !== undefined && !['floods', 'ticks'].includes(args.only)) {
  console.error(`bench:web: --only must be floods or ticks, not '${args.only}'`);
  process.exit(2);
}
const runFloods = args.only !== 'ticks';
const runTicks = args.only !== 'floods';
if (!existsSync(CHROMIUM)) {
  console.log(`bench:web: ${CHROMIUM} is not installed (apt-get install -y chromium); skipped`);
  process.exit(0);
}
const root = fileURLToPath(new URL('..', import.meta.url));

const flood = spawn(process.execPath, [join(root, 'bench/server.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
const wsPort = await new Promise((resolve) => {
  flood.stdout.on('data', (d) => {
    const m = /PORT (\d+)/.exec(String(d));
    if (m) resolve(m[1]);
  });
});
/** The page runs every run itself (designs take turns run by run) and posts each result here. */
const PAGE = () => `<!doctype html><title>bench</title><script type="module">
const RUN = ${RUN};
const TICK_RUN = ${TICK_RUN};
const { wsPort, sizes, busy, runs, seconds, designs, ticks, tickDesigns, tickBusy, symbols } = JSON.parse(decodeURIComponent(location.hash.slice(1)));
for (const rate of ticks) {
  const url = 'ws://127.0.0.1:' + wsPort + '/ticks?rate=' + rate + '&symbols=' + symbols;
  for (let i = 0; i < runs; i++) {
    for (const design of tickDesigns) {
      const result = await TICK_RUN({ design, url, seconds, work: tickBusy }).catch((error) => ({ error: String(error) }));
      await fetch('/result', { method: 'POST', body: JSON.stringify({ rate, work: tickBusy, design, ...result }) });
    }
  }
}
for (const work of busy) {
  for (const size of sizes) {
    const url = 'ws://127.0.0.1:' + wsPort + '/flood?size=' + size + '&kind=binary&count=1000000000';
    for (let i = 0; i < runs; i++) {
      for (const design of designs) {
        const result = await RUN({ design, url, seconds, work }).catch((error) => ({ error: String(error) }));
        await fetch('/result', { method: 'POST', body: JSON.stringify({ size, work, design, ...result }) });
      }
    }
  }
}
</script>`;
let onResult = () => {};
const web = http.createServer((req, res) => {
  const path = normalize(new URL(req.url, 'http://x').pathname);
  if (path === '/result') {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      res.end();
      onResult(JSON.parse(body));
    });
    return;
  }
  if (path === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE());
  if (!path.startsWith('/dist/') && path !== '/bench/tick.pipeline.mjs') return res.writeHead(404).end();
  let body;
  try {
    body = readFileSync(join(root, path));
  } catch {
    return res.writeHead(404).end();
  }
  const script = ['.js', '.mjs'].includes(extname(path));
  res.writeHead(200, { 'content-type': script ? 'text/javascript' : 'application/json' }).end(body);
});
await new Promise((resolve) => web.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${web.address().port}`;

/**
 * One run in the page: receive for `seconds`, counting messages, frames and long tasks, while
 * each animation frame does `work` ms of the page's own.
 */
const RUN = `async ({ design, url, seconds, work }) => {
  const { createQQ } = await import('/dist/browser/index.js');
  let received = 0;
  let close;
  let count = () => received;
  const opened = new Promise((resolve) => {
    if (design === 'bare worker' || design === 'bare relay') {
      // bare worker: counts in the worker. bare relay: hands the page every message's
      // ArrayBuffer, batched (one transferring post per millisecond), and the page counts them.
      const onMessage = design === 'bare worker'
        ? "n++;"
        : "q.push(e.data); if (!t) { t = setTimeout(() => { t = 0; postMessage(q, q); q = []; }, 1); }";
      const code = "let n = 0, q = [], t = 0, ws; onmessage = (m) => { if (m.data.url) { ws = new WebSocket(m.data.url); ws.binaryType = 'arraybuffer'; ws.onopen = () => postMessage('open'); ws.onmessage = (e) => { " + onMessage + " }; } else if (m.data === 'count') postMessage(n); else ws.close(); };";
      const worker = new Worker(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })));
      let answer;
      worker.onmessage = (e) => {
        if (e.data === 'open') resolve();
        else if (Array.isArray(e.data)) received += e.data.length;
        else answer(e.data);
      };
      worker.postMessage({ url });
      if (design === 'bare worker') count = () => new Promise((r) => { answer = r; worker.postMessage('count'); });
      close = () => { worker.postMessage('close'); worker.terminate(); };
    } else if (design === 'bare shared') {
      // Not run by default: bare worker's counting socket in a SharedWorker of the page's own
      // (a random name), to tell what the kind of worker does to the socket's rate.
      const code = "onconnect = (c) => { const port = c.ports[0]; let n = 0, ws; port.onmessage = (m) => { if (m.data.url) { ws = new WebSocket(m.data.url); ws.binaryType = 'arraybuffer'; ws.onopen = () => port.postMessage('open'); ws.onmessage = () => { n++; }; } else if (m.data === 'count') port.postMessage(n); else { ws.close(); close(); } }; };";
      const shared = new SharedWorker(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })), { name: 'bare-' + Math.random() });
      let answer;
      shared.port.onmessage = (e) => { if (e.data === 'open') resolve(); else answer(e.data); };
      shared.port.postMessage({ url });
      count = () => new Promise((r) => { answer = r; shared.port.postMessage('count'); });
      close = () => shared.port.postMessage('close');
    } else if (design === 'native') {
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      ws.onopen = resolve;
      ws.onmessage = () => { received++; };
      close = () => ws.close();
    } else {
      const qq = createQQ({ backend: design });
      const task = qq.connectSocket({ url });
      task.onOpen(resolve);
      task.onMessage(() => { received++; });
      close = () => qq.destroy();
    }
  });
  await opened;
  const longTasks = [];
  const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) longTasks.push(e.duration); });
  observer.observe({ type: 'longtask' });
  let frames = 0;
  let stop = false;
  const frame = () => {
    frames++;
    const end = performance.now() + work;
    while (performance.now() < end);
    if (!stop) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  const first = await count(), start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const got = (await count()) - first;
  const elapsed = (performance.now() - start) / 1000;
  stop = true;
  observer.disconnect();
  await close();
  return { msgsPerSec: got / elapsed, fps: frames / elapsed, longTasks: longTasks.length, longestTaskMs: Math.max(0, ...longTasks) };
}`;

/**
 * One tick run in the page: take the feed for `seconds` (after half a second to settle), keeping
 * the latest tick per symbol; each animation frame renders (notes the age of the newest tick it
 * holds), then does `work` ms of the page's own.
 */
const TICK_RUN = `async ({ design, url, seconds, work }) => {
  const { createQQ } = await import('/dist/browser/index.js');
  const latest = new Map();
  let newest = 0, parsed = 0, deliveries = 0, batches = 0, skipped = 0, inBatch = false;
  /** Counts the tasks that deliver: every value of one batch is delivered in one task. */
  const batch = () => {
    if (inBatch) return;
    inBatch = true;
    batches++;
    queueMicrotask(() => { inBatch = false; });
  };
  const keep = (symbol, tick) => {
    latest.set(symbol, tick);
    if (tick.at > newest) newest = tick.at;
  };
  let close;
  let ask = () => {};
  const opened = new Promise((resolve, reject) => {
    if (design === 'native + parse') {
      const ws = new WebSocket(url);
      ws.onopen = resolve;
      ws.onmessage = (e) => { const tick = JSON.parse(e.data); parsed++; deliveries++; batches++; keep(tick.symbol, tick); };
      close = () => ws.close();
    } else if (design === 'worker + parse') {
      const qq = createQQ({ backend: 'worker' });
      const task = qq.connectSocket({ url });
      task.onOpen(resolve);
      task.onError(({ errMsg }) => reject(new Error(errMsg)));
      task.onMessage(({ data }) => { const tick = JSON.parse(data); parsed++; deliveries++; batch(); keep(tick.symbol, tick); });
      close = () => qq.destroy();
    } else if (design === 'worker + keyed stage') {
      const qq = createQQ({ backend: 'worker', pipeline: new URL('/bench/tick.pipeline.mjs', location.href) });
      const task = qq.connectSocket({ url, pipeline: 'latest', deliver: 'frame' });
      task.onOpen(resolve);
      task.onError(({ errMsg }) => reject(new Error(errMsg)));
      task.onMessage(({ data, key, skipped: s }) => { deliveries++; batch(); skipped += s; parsed = data.n; keep(key, data); });
      close = () => qq.destroy();
    } else if (design === 'reference worker') {
      const code = [
        "let ws, n = 0, skipped = 0, asked = false; const changed = new Map();",
        "const flush = () => { postMessage({ changes: [...changed], n, skipped }); changed.clear(); skipped = 0; asked = false; };",
        "onmessage = (m) => {",
        "  if (m.data === 'ask') { if (changed.size > 0) flush(); else asked = true; }",
        "  else if (m.data === 'close') ws.close();",
        "  else { ws = new WebSocket(m.data); ws.onopen = () => postMessage('open');",
        "    ws.onmessage = (e) => { const t = JSON.parse(e.data); n++; if (changed.has(t.symbol)) skipped++;",
        "      changed.set(t.symbol, { price: t.price, at: t.at }); if (asked) flush(); }; }",
        "};",
      ].join('\\n');
      const worker = new Worker(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })));
      worker.onmessage = (e) => {
        if (e.data === 'open') return resolve();
        batches++;
        deliveries += e.data.changes.length;
        skipped += e.data.skipped;
        parsed = e.data.n;
        for (const [symbol, tick] of e.data.changes) keep(symbol, tick);
      };
      worker.postMessage(url);
      ask = () => worker.postMessage('ask');
      close = () => { worker.postMessage('close'); worker.terminate(); };
    } else {
      reject(new Error('no tick design ' + design));
    }
  });
  await opened;
  const longTasks = [];
  const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) longTasks.push(e.duration); });
  let frames = 0, ages = [], stop = false, measuring = false;
  const frame = () => {
    if (measuring) {
      frames++;
      if (newest > 0) ages.push(Date.now() - newest);
    }
    ask();
    const end = performance.now() + work;
    while (performance.now() < end);
    if (!stop) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  while (newest === 0) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 500));
  observer.observe({ type: 'longtask' });
  const first = { parsed, deliveries, batches, skipped };
  const start = performance.now();
  measuring = true;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - start) / 1000;
  stop = true;
  observer.disconnect();
  await close();
  ages.sort((a, b) => a - b);
  const at = (q) => ages[Math.min(ages.length - 1, Math.floor(q * ages.length))];
  const rate = (name) => ((name === 'parsed' ? parsed : name === 'deliveries' ? deliveries : name === 'batches' ? batches : skipped) - first[name]) / elapsed;
  return {
    parsedPerSec: rate('parsed'),
    fps: frames / elapsed,
    longTasks: longTasks.length,
    longestTaskMs: Math.max(0, ...longTasks),
    ageP50Ms: at(0.5),
    ageP95Ms: at(0.95),
    deliveriesPerSec: rate('deliveries'),
    batchesPerSec: rate('batches'),
    skippedPerSec: rate('skipped'),
    symbolsShown: latest.size,
  };
}`;

const designs = args.designs.split(',');
const tickDesigns = args['tick-designs'].split(',');
for (const design of tickDesigns) {
  if (!TICK_DESIGNS.includes(design)) {
    console.error(`bench:web: --tick-designs: no design '${design}' (${TICK_DESIGNS.join(', ')})`);
    process.exit(2);
  }
}
const floodRuns = runFloods ? busy.length * sizes.length * designs.length * runs : 0;
const tickRuns = runTicks ? tickRates.length * tickDesigns.length * runs : 0;
const expected = floodRuns + tickRuns;
const version = String(execFileSync(CHROMIUM, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] }))
  .split(' ')
  .slice(0, 2)
  .join(' ');
const config = {
  wsPort: Number(wsPort),
  sizes: runFloods ? sizes : [],
  busy: runFloods ? busy : [],
  runs,
  seconds,
  designs,
  ticks: runTicks ? tickRates : [],
  tickDesigns,
  tickBusy,
  symbols: TICK_SYMBOLS,
};
const url = `${origin}/#${encodeURIComponent(JSON.stringify(config))}`;

/** Every run's result, as the page posts them; rejects when the page goes quiet. */
const results = [];
const done = new Promise((resolve, reject) => {
  const quiet = () => setTimeout(() => reject(new Error('the bench page went quiet for 60 s')), 60_000);
  let timer = quiet();
  onResult = (result) => {
    if (result.error !== undefined) return reject(new Error(`${result.design}: ${result.error}`));
    results.push(result);
    process.stderr.write('.');
    clearTimeout(timer);
    if (results.length === expected) resolve();
    else timer = quiet();
  };
});
let finish;
if (args.cdp) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  await (await browser.newPage()).goto(url);
  finish = () => browser.close();
} else {
  const profile = mkdtempSync(join(tmpdir(), 'qq-bench-web-'));
  // A process group of its own: Chromium's helpers (crashpad, zygotes) end with it.
  const chrome = spawn(CHROMIUM, ['--headless', ...CHROMIUM_ARGS, `--user-data-dir=${profile}`, url], {
    stdio: 'ignore',
    detached: true,
  });
  finish = async () => {
    const exited = new Promise((resolve) => chrome.once('exit', resolve));
    try {
      process.kill(-chrome.pid, 'SIGTERM');
    } catch {
      chrome.kill();
    }
    await exited;
    // Helpers may still be writing to the profile as the browser exits.
    rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  };
}
try {
  await done;
} finally {
  process.stderr.write('\n');
  web.close();
  flood.kill();
  await finish().catch((error) => console.error(`bench:web: cleaning up Chromium: ${error.message}`));
}

const rows = [];
for (const work of runFloods ? busy : []) {
  for (const size of sizes) {
    for (const design of designs) {
      const runs = results.filter((r) => r.size === size && r.work === work && r.design === design);
      rows.push({
        scenario: `recv ${size >= 1024 ? `${size / 1024} KiB` : `${size} B`} binary`,
        busyMs: work,
        design,
        msgsPerSec: median(runs.map((r) => r.msgsPerSec)),
        fps: median(runs.map((r) => r.fps)),
        longTasks: median(runs.map((r) => r.longTasks)),
        longestTaskMs: Math.max(...runs.map((r) => r.longestTaskMs)),
      });
    }
  }
}
const tickRows = [];
for (const rate of runTicks ? tickRates : []) {
  for (const design of tickDesigns) {
    const runs = results.filter((r) => r.rate === rate && r.design === design);
    const med = (name) => median(runs.map((r) => r[name]));
    tickRows.push({
      scenario: `JSON ticks ${rate.toLocaleString('en-US')}/s, ${TICK_SYMBOLS} symbols`,
      ticksPerSec: rate,
      busyMs: tickBusy,
      design,
      parsedPerSec: med('parsedPerSec'),
      fps: med('fps'),
      longTasks: med('longTasks'),
      longestTaskMs: Math.max(...runs.map((r) => r.longestTaskMs)),
      ageP50Ms: med('ageP50Ms'),
      ageP95Ms: med('ageP95Ms'),
      deliveriesPerSec: med('deliveriesPerSec'),
      batchesPerSec: med('batchesPerSec'),
      skippedPerSec: med('skippedPerSec'),
    });
  }
}
for (const row of rows) {
  const native = rows.find((r) => r.scenario === row.scenario && r.busyMs === row.busyMs && r.design === 'native');
  row.ratio = native === undefined ? Number.NaN : row.msgsPerSec / native.msgsPerSec;
}
console.log(
  `${version}, headless, ${args.cdp ? 'under DevTools (Playwright)' : 'no DevTools attached'}, medians of ${args.runs} runs of ${args.seconds} s.\n`,
);
if (rows.length > 0) console.log(browserTable(rows));
if (tickRows.length > 0) {
  if (rows.length > 0) console.log('');
  console.log(tickTable(tickRows));
}
if (args.json) {
  const json = { browser: version, devtools: Boolean(args.cdp), rows, tickRows };
  writeFileSync(args.out, `${JSON.stringify(json, null, 2)}\n`);
  if (!args.nested) console.log(`\nJSON: ${args.out}`);
}
