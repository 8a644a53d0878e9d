// `npm run bench:web` (also run by `npm run bench` where Chromium is installed): a page in Debian's
// Chromium receives floods of 16 B, 1 KiB and 64 KiB binary messages through the native
// WebSocket on the main thread, and through qq-socket-worker's `worker` and `shared` backends,
// side by side in one run. Two reference rows: `bare worker`, a dedicated worker with a native
// WebSocket that only counts (it delivers nothing to the page): the ceiling of any design that
// puts the socket in a dedicated worker; and `bare relay`, the least a worker can do to deliver:
// it posts the page each message's ArrayBuffer, batched once a millisecond. Not run unless named
// in --designs: `leader` (`shared` with `sharing: 'leader'`: the host in this tab's own dedicated
// worker, reached through BroadcastChannels, as in WebKit, where `shared` elects a leader) and
// `bare shared` (a SharedWorker with a native WebSocket that only counts). Per row: messages/s,
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
//   npm run bench:web [-- --browser chromium,firefox,webkit] [-- --json] [-- --record] [-- --runs 5] [-- --seconds 2]
//                     [-- --sizes 16,1024] [-- --busy 0,12] [-- --designs native,worker] [-- --ticks 5000,30000]
//                     [-- --tick-designs ...] [-- --tick-busy 12] [-- --only floods|ticks] [-- --driven]
//
// Every engine: --browser (repeatable, or a comma list) names them; by default every one installed
// here (engineMissing() of the suites' adapter). Each runs the same page, one engine after another,
// opened with no client attached (bench/engines.mjs), or through the suites' adapter with --driven
// (Chromium over CDP, Firefox over WebDriver BiDi, WebKit over WebDriver). Long tasks come from
// PerformanceObserver's 'longtask' entries, which only Chromium has: elsewhere the column says n/a.
// --json writes every engine's rows to --out; --record writes them into bench/results.json (each
// engine's entry replaced, the rest kept; with --only, only that part of the entry, the other kept
// where it was measured alike: same browser, --runs, --seconds, --driven and day), from which
// bench/tables.mjs writes the pages' tables.
// Every argument is checked before anything starts (the build, the servers, a browser).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ENGINES, engineMissing, engineVersion, openDriven, openPage } from './engines.mjs';
import { browserTable, median, refuser, tickTable } from './report.mjs';

const TICK_DESIGNS = ['native + parse', 'worker + parse', 'worker + keyed stage', 'reference worker'];
const DESIGNS = ['native', 'bare worker', 'bare relay', 'worker', 'shared', 'leader', 'bare shared'];
const TICK_SYMBOLS = 10;
const refuse = refuser('bench:web');
let args;
try {
  // `--tick-busy -1` is a negative number, not an option: parseArgs would refuse it as ambiguous.
  const argv = process.argv.slice(2);
  for (let i = argv.length - 2; i >= 0; i--) {
    if (/^--[^=]+$/.test(argv[i]) && /^-[\d.]/.test(argv[i + 1])) argv.splice(i, 2, `${argv[i]}=${argv[i + 1]}`);
  }
  ({ values: args } = parseArgs({
    args: argv,
    options: {
      browser: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      out: { type: 'string', default: 'bench/results-web.json' },
      record: { type: 'boolean' },
      runs: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '2' },
      sizes: { type: 'string', default: '16,1024,65536' },
      busy: { type: 'string', default: '0,12' },
      designs: { type: 'string', default: 'native,bare worker,bare relay,worker,shared' },
      ticks: { type: 'string', default: '5000,30000' },
      'tick-designs': { type: 'string', default: TICK_DESIGNS.join(',') },
      'tick-busy': { type: 'string', default: '12' },
      only: { type: 'string' },
      driven: { type: 'boolean' },
      // Set by bench/run.mjs, which built the package already and prints where its JSON went.
      nested: { type: 'boolean' },
      'no-build': { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  refuse(`${error.message.split('\n').join(' ')} (see the usage at the top of bench/web.mjs)`);
}
/** `--name`'s comma-separated numbers, each checked. */
const numbers = (name, ok, what) => {
  const values = String(args[name])
    .split(',')
    .map((v) => (v.trim() === '' ? Number.NaN : Number(v)));
  if (!values.every(ok)) refuse(`--${name} must be ${what}, not '${args[name]}'`);
  return [...new Set(values)];
};
/** `--name`'s comma-separated names, each one of `known`. */
const names = (name, known) => {
  const values = String(args[name]).split(',');
  for (const value of values) {
    if (!known.includes(value)) refuse(`--${name}: no design '${value}' (${known.join(', ')})`);
  }
  return [...new Set(values)];
};
const sizes = numbers('sizes', (n) => Number.isInteger(n) && n >= 1, 'message sizes in bytes (16,1024,65536)');
const busy = numbers('busy', (n) => Number.isFinite(n) && n >= 0 && n <= 1000, 'ms of page work a frame (0,12)');
const [runs] = numbers('runs', (n) => Number.isInteger(n) && n >= 1 && n <= 1000, 'one count of runs (5)');
const [seconds] = numbers('seconds', (n) => Number.isFinite(n) && n > 0 && n <= 600, 'one number of seconds a run (2)');
const tickRates = numbers('ticks', (n) => Number.isInteger(n) && n >= 1 && n <= 1e6, 'ticks a second (5000,30000)');
const tickBusyList = numbers(
  'tick-busy',
  (n) => Number.isFinite(n) && n >= 0 && n <= 1000,
  'ms of page work a frame (12)',
);
for (const name of ['runs', 'seconds', 'tick-busy']) {
  if (String(args[name]).includes(',')) refuse(`--${name} takes one number, not '${args[name]}'`);
}
const [tickBusy] = tickBusyList;
const designs = names('designs', DESIGNS);
const tickDesigns = names('tick-designs', TICK_DESIGNS);
if (args.only !== undefined && !['floods', 'ticks'].includes(args.only)) {
  refuse(`--only must be floods or ticks, not '${args.only}'`);
}
const runFloods = args.only !== 'ticks';
const runTicks = args.only !== 'floods';
if (args.record && (args.json || args.nested)) refuse('--record writes bench/results.json itself: not with --json');
/** The engines to run: those named (each must be installed), or every one installed. */
let browsers;
if (args.browser === undefined) {
  browsers = ENGINES.filter((name) => {
    const missing = engineMissing(name);
    if (missing) console.log(`bench:web: ${missing}; skipped`);
    return !missing;
  });
  if (browsers.length === 0) process.exit(0);
} else {
  browsers = [...new Set(args.browser.flatMap((b) => b.split(',')))];
  for (const name of browsers) {
    if (!ENGINES.includes(name)) refuse(`--browser: no engine '${name}' (${ENGINES.join(', ')})`);
    const missing = engineMissing(name);
    if (missing) refuse(`--browser ${name}: ${missing}`);
  }
}
const root = fileURLToPath(new URL('..', import.meta.url));
const RECORD = join(root, 'bench/results.json');
/** The day the run started: the date of what it records, and what --record --only compares. */
const today = new Date().toISOString().slice(0, 10);
/** Each engine's recorded entry, where --record --only keeps its other part. */
const recordedBefore =
  args.record && existsSync(RECORD) ? (JSON.parse(readFileSync(RECORD, 'utf8')).browser ?? {}) : {};
if (args.record && args.only !== undefined) {
  const other = args.only === 'ticks' ? 'flood' : 'tick';
  for (const name of browsers) {
    const old = recordedBefore[name];
    if (old === undefined) continue;
    const now = { browser: engineVersion(name), runs, seconds, driven: Boolean(args.driven), date: today };
    const unlike = Object.keys(now).filter((key) => old[key] !== now[key]);
    if (unlike.length > 0) {
      refuse(
        `--record --only ${args.only}: ${name}'s recorded ${other} rows were measured otherwise (${unlike.map((key) => `${key} ${old[key]}, not ${now[key]}`).join('; ')}): record without --only`,
      );
    }
  }
}
if (!args['no-build']) execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });

const flood = spawn(process.execPath, [join(root, 'bench/server.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
const wsPort = await new Promise((resolve) => {
  flood.stdout.on('data', (d) => {
    const m = /PORT (\d+)/.exec(String(d));
    if (m) resolve(m[1]);
  });
});
/** The page runs every run itself (designs take turns run by run) and posts each result here. */
const PAGE = () => `<!doctype html><title>bench</title><script type="module">
// Long tasks: PerformanceObserver's 'longtask' entries exist in Chromium only (null elsewhere: n/a).
const LONG_TASKS = (PerformanceObserver.supportedEntryTypes || []).includes('longtask');
const LONGEST = (longTasks) => LONG_TASKS ? { longTasks: longTasks.length, longestTaskMs: Math.max(0, ...longTasks) } : { longTasks: null, longestTaskMs: null };
const RUN = ${RUN};
const TICK_RUN = ${TICK_RUN};
const { page, wsPort, sizes, busy, runs, seconds, designs, ticks, tickDesigns, tickBusy, symbols } = JSON.parse(decodeURIComponent(location.hash.slice(1)));
for (const rate of ticks) {
  const url = 'ws://127.0.0.1:' + wsPort + '/ticks?rate=' + rate + '&symbols=' + symbols;
  for (let i = 0; i < runs; i++) {
    for (const design of tickDesigns) {
      const result = await TICK_RUN({ design, url, seconds, work: tickBusy }).catch((error) => ({ error: String(error) }));
      await fetch('/result', { method: 'POST', body: JSON.stringify({ page, rate, work: tickBusy, design, ...result }) });
    }
  }
}
for (const work of busy) {
  for (const size of sizes) {
    // The server stops 3 s after a run should have ended: a page whose timers the flood starves ends its run then.
    const url = 'ws://127.0.0.1:' + wsPort + '/flood?size=' + size + '&kind=binary&count=1000000000&ms=' + (seconds * 1000 + 3000);
    for (let i = 0; i < runs; i++) {
      for (const design of designs) {
        const result = await RUN({ design, url, seconds, work }).catch((error) => ({ error: String(error) }));
        await fetch('/result', { method: 'POST', body: JSON.stringify({ page, size, work, design, ...result }) });
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
  let failed;
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
      const qq = createQQ(design === 'leader' ? { backend: 'shared', sharing: 'leader' } : { backend: design });
      const task = qq.connectSocket({ url });
      task.onOpen(resolve);
      task.onMessage(() => { received++; });
      // A task that fails mid-run (e.g. the page let go for falling behind) says so in the results.
      task.onError(({ errMsg }) => { failed ??= errMsg; });
      close = () => qq.destroy();
    }
  });
  await opened;
  const longTasks = [];
  const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) longTasks.push(e.duration); });
  if (LONG_TASKS) observer.observe({ type: 'longtask' });
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
  return { msgsPerSec: got / elapsed, fps: frames / elapsed, elapsedS: elapsed, ...LONGEST(longTasks), ...(failed ? { failed } : {}) };
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
  if (LONG_TASKS) observer.observe({ type: 'longtask' });
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
    elapsedS: elapsed,
    ...LONGEST(longTasks),
    ageP50Ms: at(0.5),
    ageP95Ms: at(0.95),
    deliveriesPerSec: rate('deliveries'),
    batchesPerSec: rate('batches'),
    skippedPerSec: rate('skipped'),
    symbolsShown: latest.size,
  };
}`;

const floodRuns = runFloods ? busy.length * sizes.length * designs.length * runs : 0;
const tickRuns = runTicks ? tickRates.length * tickDesigns.length * runs : 0;
const expected = floodRuns + tickRuns;

/** What is open now (the browser of the engine under way), closed on the way out, Ctrl-C too. */
let open;
const cleanUp = async () => {
  web.close();
  flood.kill();
  await open?.close().catch((error) => console.error(`bench:web: closing the browser: ${error.message}`));
  open = undefined;
};
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`\nbench:web: ${signal}: closing the browser and the servers\n`);
    cleanUp().finally(() => process.exit(130));
  });
}

/** One engine's whole run: the page opened in it, every result it posts. */
async function runEngine(name, page) {
  const config = {
    page,
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
  const results = [];
  let timer;
  const done = new Promise((resolve, reject) => {
    // Generous: in Firefox a page that worker messages keep busy may run its 2 s timer a minute late.
    const quiet = () => setTimeout(() => reject(new Error(`${name}: the bench page went quiet for 180 s`)), 180_000);
    timer = quiet();
    onResult = (result) => {
      if (result.page !== page) return; // a page of an engine before, still closing
      if (result.error !== undefined) return reject(new Error(`${name}, ${result.design}: ${result.error}`));
      results.push(result);
      process.stderr.write('.');
      clearTimeout(timer);
      if (results.length === expected) resolve();
      else timer = quiet();
    };
  });
  done.catch(() => {}); // awaited below, or given up on while the browser is still opening
  process.stderr.write(`${name}: `);
  const version = engineVersion(name);
  const opening = (args.driven ? openDriven : openPage)(name, url);
  try {
    // A driven page may not finish loading while the bench starves it: the results decide.
    await Promise.race([opening, done]);
    open = await opening;
    await done;
  } finally {
    if (open === undefined) opening.then((o) => o.close()).catch(() => {});
    clearTimeout(timer);
    process.stderr.write('\n');
    const closing = open;
    open = undefined;
    await closing?.close().catch((error) => console.error(`bench:web: closing ${name}: ${error.message}`));
  }
  return { version, results };
}

/** A row's failures: how many of its runs had an onError, and the first errMsg. */
const failures = (runs) => {
  const failed = runs.filter((r) => r.failed);
  return failed.length === 0 ? {} : { failedRuns: failed.length, failed: failed[0].failed };
};

/** An engine's rows (medians over its runs), as bench/results.json keeps them. */
function engineRows(results) {
  const rows = [];
  /** The median of a column; null where the engine has no such figure (long tasks). */
  const med = (runs, name) => (runs.some((r) => r[name] === null) ? null : median(runs.map((r) => r[name])));
  const longest = (runs) =>
    runs.some((r) => r.longestTaskMs === null) ? null : Math.max(...runs.map((r) => r.longestTaskMs));
  for (const work of runFloods ? busy : []) {
    for (const size of sizes) {
      for (const design of designs) {
        const runs = results.filter((r) => r.size === size && r.work === work && r.design === design);
        rows.push({
          scenario: `recv ${size >= 1024 ? `${size / 1024} KiB` : `${size} B`} binary`,
          busyMs: work,
          design,
          msgsPerSec: med(runs, 'msgsPerSec'),
          fps: med(runs, 'fps'),
          longTasks: med(runs, 'longTasks'),
          longestTaskMs: longest(runs),
          // Longer than --seconds where the page's timer fired late (a flood starving its timers).
          elapsedS: med(runs, 'elapsedS'),
          ...failures(runs),
        });
      }
    }
  }
  for (const row of rows) {
    if (row.failed) console.error(`bench:web: ${row.scenario}, busy ${row.busyMs}, ${row.design}: ${row.failed}`);
    const native = rows.find((r) => r.scenario === row.scenario && r.busyMs === row.busyMs && r.design === 'native');
    row.ratio = native === undefined ? Number.NaN : row.msgsPerSec / native.msgsPerSec;
  }
  const tickRows = [];
  for (const rate of runTicks ? tickRates : []) {
    for (const design of tickDesigns) {
      const runs = results.filter((r) => r.rate === rate && r.design === design);
      tickRows.push({
        scenario: `JSON ticks ${rate.toLocaleString('en-US')}/s, ${TICK_SYMBOLS} symbols`,
        ticksPerSec: rate,
        busyMs: tickBusy,
        design,
        parsedPerSec: med(runs, 'parsedPerSec'),
        fps: med(runs, 'fps'),
        longTasks: med(runs, 'longTasks'),
        longestTaskMs: longest(runs),
        ageP50Ms: med(runs, 'ageP50Ms'),
        ageP95Ms: med(runs, 'ageP95Ms'),
        deliveriesPerSec: med(runs, 'deliveriesPerSec'),
        batchesPerSec: med(runs, 'batchesPerSec'),
        skippedPerSec: med(runs, 'skippedPerSec'),
        elapsedS: med(runs, 'elapsedS'),
      });
    }
  }
  return { rows, tickRows };
}

const json = {};
try {
  for (const [i, name] of browsers.entries()) {
    let run;
    try {
      run = await runEngine(name, i + 1);
    } catch (error) {
      // One engine's failure ends its run, not the others'; the exit code says so.
      console.error(`bench:web: ${error.message}`);
      process.exitCode = 1;
      continue;
    }
    const { version, results } = run;
    const entry = {
      browser: version,
      driven: Boolean(args.driven),
      date: today,
      runs,
      seconds,
      ...engineRows(results),
    };
    json[name] = entry;
    console.log(
      `${version}, ${args.driven ? "driven by its automation client (the suites' adapter)" : 'no automation client attached'}, medians of ${runs} runs of ${seconds} s.\n`,
    );
    if (entry.rows.length > 0) console.log(browserTable(entry.rows));
    if (entry.tickRows.length > 0) {
      if (entry.rows.length > 0) console.log('');
      console.log(tickTable(entry.tickRows));
    }
    console.log('');
  }
} finally {
  await cleanUp();
}

if (args.json) {
  writeFileSync(args.out, `${JSON.stringify(json, null, 2)}\n`);
  if (!args.nested) console.log(`JSON: ${args.out}`);
}
if (args.record) {
  const recorded = existsSync(RECORD) ? JSON.parse(readFileSync(RECORD, 'utf8')) : {};
  for (const [name, entry] of Object.entries(json)) {
    // --only: the part not run stays as recorded (checked above to be measured alike).
    const old = recordedBefore[name];
    if (args.only === 'ticks' && old !== undefined) entry.rows = old.rows;
    if (args.only === 'floods' && old !== undefined) entry.tickRows = old.tickRows;
  }
  recorded.browser = { ...recorded.browser, ...json };
  writeFileSync(RECORD, `${JSON.stringify(recorded, null, 2)}\n`);
  const what = args.only === undefined ? '' : ` (${args.only === 'ticks' ? 'tick' : 'flood'} rows)`;
  console.log(
    `bench/results.json: ${Object.keys(json).join(', ')} recorded${what} (node bench/tables.mjs writes the pages)`,
  );
}
