// One bench cell: a design × a scenario, `runs` measured runs after one warm-up, in this fresh
// process. Prints one JSON line. Run by bench/run.mjs; not meant to be run by hand.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import WS from 'ws';
import { createQQ } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    design: { type: 'string' },
    scenario: { type: 'string' },
    port: { type: 'string' },
    runs: { type: 'string' },
  },
});
const base = `ws://127.0.0.1:${args.port}`;
const RUNS = Number(args.runs ?? 5);

/** Main-thread CPU time in ns (this thread only, unlike process.cpuUsage()). */
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
const cpuNs = () => Number(readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]);

// ---- Designs: each opens a socket and reports open/message/close the same way.

/** ws on this thread. Text reaches the handler as a string, binary as the mode's own type. */
function wsDesign(binaryType) {
  return (url, on) => {
    const ws = new WS(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
    ws.binaryType = binaryType;
    ws.on('open', on.open);
    ws.on('message', (data, isBinary) => on.message(isBinary ? data : data.toString()));
    ws.on('close', on.close);
    ws.on('error', (e) => on.error(e.message));
    return { send: (d) => ws.send(d), close: () => ws.close() };
  };
}

/** Node's own WebSocket (undici). */
function nodeDesign() {
  return (url, on) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = on.open;
    ws.onmessage = (e) => on.message(e.data);
    ws.onclose = on.close;
    ws.onerror = () => on.error('error');
    return { send: (d) => ws.send(d), close: () => ws.close() };
  };
}

/** qq-socket-worker with a backend (and a pipeline stage: what the host does with each message). */
function qqDesign(backend, pipeline) {
  const qq = createQQ({ backend, maxPayload: 1 << 30, pipeline: new URL('./book.pipeline.mjs', import.meta.url) });
  return (url, on) => {
    const task = qq.connectSocket({ url, ...(pipeline === undefined ? {} : { pipeline }) });
    task.onOpen(on.open);
    task.onMessage(({ data }) => on.message(data));
    task.onClose(on.close);
    task.onError(({ errMsg }) => on.error(errMsg));
    return { send: (data) => task.send({ data }), close: () => task.close() };
  };
}

const designs = {
  'ws (Buffer)': () => wsDesign('nodebuffer'),
  'ws (arraybuffer)': () => wsDesign('arraybuffer'),
  'node WebSocket': () => nodeDesign(),
  'qq inline': () => qqDesign('inline'),
  'qq thread': () => qqDesign('thread'),
  // The order-book rows only: the app's parse in the host ('json'), or parse and fold there too.
  'qq thread + json stage': () => qqDesign('thread', 'json'),
  'qq thread + keyed stage': () => qqDesign('thread', 'book'),
};
const connect = designs[args.design]();

// ---- Scenarios.

const sizeOf = (d) => (typeof d === 'string' ? d.length : d.byteLength);
const seqOf = (d) => {
  if (typeof d === 'string') return Number(d.slice(0, 10));
  const view = Buffer.isBuffer(d) ? d : new DataView(d);
  return Buffer.isBuffer(view) ? view.readUInt32BE(0) : view.getUint32(0);
};

/**
 * Measures one run from `start()`: wall time, this thread's CPU and its event-loop delay.
 * `stop(msgs, bytes)` gives the row's figures.
 */
function meter() {
  const eld = monitorEventLoopDelay({ resolution: 1 });
  let t0 = 0;
  let cpu0 = 0;
  return {
    start() {
      t0 = performance.now();
      cpu0 = cpuNs();
      eld.enable();
    },
    elapsedMs: () => performance.now() - t0,
    /** Restart the loop-delay histogram (to measure only what follows, e.g. after a stall). */
    resetDelay: () => eld.reset(),
    stop(msgs, bytes) {
      const seconds = (performance.now() - t0) / 1000;
      eld.disable();
      return {
        msgs,
        msgsPerSec: msgs / seconds,
        mbPerSec: bytes / 1e6 / seconds,
        cpuUsPerMsg: (cpuNs() - cpu0) / 1000 / msgs,
        eldP99Ms: eld.percentile(99) / 1e6,
      };
    },
  };
}

/** Receive `count` messages from the flood server; optionally block the thread mid-way. */
function flood({ size, kind, count, stallAtMs = 0, stallMs = 0, checkOrder = false }) {
  return new Promise((resolve, reject) => {
    const m = meter();
    let received = 0;
    let bytes = 0;
    let inOrder = true;
    const socket = connect(`${base}/flood?size=${size}&kind=${kind}&count=${count}&seq=${checkOrder ? 1 : 0}`, {
      open: () => {
        m.start();
        if (stallMs > 0) {
          setTimeout(() => {
            const until = Date.now() + stallMs;
            while (Date.now() < until) {}
            m.resetDelay(); // the stall row reports the loop delay after the stall
          }, stallAtMs);
        }
      },
      message: (data) => {
        if (checkOrder && seqOf(data) !== received) inOrder = false;
        received++;
        bytes += sizeOf(data);
        if (received === count) {
          socket.close();
          resolve({ ...m.stop(received, bytes), inOrder: checkOrder ? inOrder : undefined });
        }
      },
      close: () => {
        if (received < count) reject(new Error(`closed after ${received}/${count}`));
      },
      error: (e) => reject(new Error(e)),
    });
  });
}

/** Echo with `inFlight` messages outstanding until `count` round trips. */
function echo({ size, count, inFlight }) {
  return new Promise((resolve, reject) => {
    const payload = 'x'.repeat(size);
    const m = meter();
    let sent = 0;
    let got = 0;
    const socket = connect(`${base}/echo`, {
      open: () => {
        m.start();
        for (; sent < inFlight; sent++) socket.send(payload);
      },
      message: () => {
        got++;
        if (sent < count) {
          socket.send(payload);
          sent++;
        } else if (got === count) {
          socket.close();
          resolve(m.stop(got, got * size * 2));
        }
      },
      close: () => {},
      error: (e) => reject(new Error(e)),
    });
  });
}

/** One message every ~1 ms for `durationMs`; round-trip percentiles. */
function paced({ durationMs }) {
  return new Promise((resolve, reject) => {
    const rtts = [];
    const m = meter();
    let timer;
    const socket = connect(`${base}/echo`, {
      open: () => {
        m.start();
        const tick = () => {
          socket.send(String(performance.now()));
          if (m.elapsedMs() < durationMs) timer = setTimeout(tick, 1);
        };
        tick();
      },
      message: (data) => {
        rtts.push(performance.now() - Number(data));
        if (m.elapsedMs() < durationMs) return;
        clearTimeout(timer);
        socket.close();
        rtts.sort((a, b) => a - b);
        const at = (q) => rtts[Math.min(rtts.length - 1, Math.floor(q * rtts.length))];
        resolve({ ...m.stop(rtts.length, 0), rttP50Us: at(0.5) * 1000, rttP99Us: at(0.99) * 1000 });
      },
      close: () => {},
      error: (e) => reject(new Error(e)),
    });
  });
}

/** Send `count` messages of `size` bytes as fast as the design takes them; done when the sink counted them. */
function sendFlood({ size, count }) {
  return new Promise((resolve, reject) => {
    const payload = 'y'.repeat(size);
    const m = meter();
    const socket = connect(`${base}/sink`, {
      open: () => {
        m.start();
        let sent = 0;
        const burst = () => {
          for (let i = 0; i < 1000 && sent < count; i++, sent++) socket.send(payload);
          if (sent < count) setImmediate(burst);
          else socket.send('end');
        };
        burst();
      },
      message: (data) => {
        socket.close();
        if (data !== `got:${count}`) reject(new Error(`sink answered ${data}`));
        resolve(m.stop(count, count * size));
      },
      close: () => {},
      error: (e) => reject(new Error(e)),
    });
  });
}

/**
 * An order-book feed of `count` JSON deltas over `symbols` symbols, then "done": the app keeps
 * the latest per symbol. Where a design hands the page text, the page parses it (the app's own
 * work); a stage hands it objects. `msgs` are the server's messages; `deliveries` what the page got.
 */
function book({ count, symbols }) {
  return new Promise((resolve, reject) => {
    const m = meter();
    const latest = new Map();
    let deliveries = 0;
    const socket = connect(`${base}/book?count=${count}&symbols=${symbols}`, {
      open: () => m.start(),
      message: (data) => {
        deliveries++;
        const d = typeof data === 'string' ? JSON.parse(data) : data;
        if (d.e === 'done' || d.done === true) {
          const seconds = m.elapsedMs() / 1000;
          socket.close();
          if (latest.size !== symbols) reject(new Error(`${latest.size} of ${symbols} symbols`));
          resolve({ ...m.stop(count, count * 300), deliveriesPerSec: deliveries / seconds });
          return;
        }
        if (d.s !== undefined) latest.set(d.s, d);
      },
      close: () => {},
      error: (e) => reject(new Error(e)),
    });
  });
}

const KiB = 1024;
const scenarios = {
  'recv 16 B text': () => flood({ size: 16, kind: 'text', count: 400_000 }),
  'recv 16 B binary': () => flood({ size: 16, kind: 'binary', count: 400_000 }),
  'recv 1 KiB text': () => flood({ size: KiB, kind: 'text', count: 100_000 }),
  'recv 1 KiB binary': () => flood({ size: KiB, kind: 'binary', count: 100_000 }),
  'recv 64 KiB text': () => flood({ size: 64 * KiB, kind: 'text', count: 3_000 }),
  'recv 64 KiB binary': () => flood({ size: 64 * KiB, kind: 'binary', count: 3_000 }),
  'echo 16 B x100 in flight': () => echo({ size: 16, count: 100_000, inFlight: 100 }),
  'paced 1k/s round trip': () => paced({ durationMs: 2000 }),
  'send 16 B flood': () => sendFlood({ size: 16, count: 300_000 }),
  'send 1 KiB flood': () => sendFlood({ size: KiB, count: 100_000 }),
  'book 300 B JSON, 100 symbols': () => book({ count: 300_000, symbols: 100 }),
  stall: () => flood({ size: 16, kind: 'binary', count: 3_000_000, stallAtMs: 300, stallMs: 3000, checkOrder: true }),
};

const scenario = scenarios[args.scenario];
const isStall = args.scenario === 'stall';
// Warm-up (JIT in every thread involved, host thread start): runs of the scenario until WARM_UP_MS
// have passed, at least one. A run of large messages calls the per-message code only a few
// thousand times, and V8 optimizes code by how much of it ran: one run left those rows measuring
// code still being optimized (the thread design's host reached its steady rate only after ~10
// runs of 3000 64 KiB messages). The stall run warms up on a plain flood, so its peak RSS is its own.
const WARM_UP_MS = 1500;
const warmUntil = performance.now() + WARM_UP_MS;
if (isStall) {
  await scenarios['recv 16 B binary']();
} else {
  do await scenario();
  while (performance.now() < warmUntil);
}
const rssBaseline = process.memoryUsage().rss;
const results = [];
for (let i = 0; i < (isStall ? 1 : RUNS); i++) results.push(await scenario());
const peakRss = process.resourceUsage().maxRSS * 1024;
console.log(JSON.stringify({ design: args.design, scenario: args.scenario, results, rssBaseline, peakRss }));
process.exit(0);
