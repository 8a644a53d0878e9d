// `npm run soak`: 10,000 connect/send/close cycles and a 60 s flood, then checks that the heap,
// ArrayBuffer memory, open handles, ports and threads return to their baseline, and that RSS
// reaches a plateau: the flood runs in two equal halves and RSS must not grow from the first to
// the second (V8 and malloc keep freed pages, so RSS never drops back fully; a leak keeps
// growing). Prints one JSON report and exits 1 on a leak. The test suite runs a short version,
// whose floods are too short to judge RSS by (see judgeRss).
//   node --expose-gc scripts/soak.mjs [--backend thread|inline] [--cycles N] [--flood SECONDS]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createQQ } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'thread' },
    cycles: { type: 'string', default: '10000' },
    flood: { type: 'string', default: '60' },
  },
});
if (typeof globalThis.gc !== 'function') {
  console.error('soak: run with node --expose-gc');
  process.exit(2);
}

const MiB = 2 ** 20;
/** What may remain after the run (JIT code, caches), and RSS growth allowed between the halves. */
const LIMITS = { heapMiB: 8, arrayBuffersMiB: 4, rssPlateauMiB: 16 };

const server = spawn(process.execPath, [fileURLToPath(new URL('../bench/server.mjs', import.meta.url))], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise((resolve) => {
  server.stdout.on('data', (d) => {
    const m = /PORT (\d+)/.exec(String(d));
    if (m) resolve(m[1]);
  });
});
const base = `ws://127.0.0.1:${port}`;

const qq = createQQ({ backend: args.backend, maxConnections: 5 });
const debug = qq[Symbol.for('qq-socket-worker.debug')];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resources that keep a process alive, by type (timers of this script excluded by measuring idle). */
const handles = () => {
  const counts = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
};
async function snapshot() {
  await sleep(3500); // idle host released (1 s), idle pool thread ended (2 s)
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await sleep(50);
  }
  const { heapUsed, heapTotal, arrayBuffers, rss } = process.memoryUsage();
  return {
    heapMiB: heapUsed / MiB,
    heapCommittedMiB: heapTotal / MiB,
    arrayBuffersMiB: arrayBuffers / MiB,
    rssMiB: rss / MiB,
    handles: handles(),
    threads: debug.threads(),
  };
}

function cycle(i) {
  return new Promise((resolve, reject) => {
    const task = qq.connectSocket({ url: `${base}/echo` });
    task.onOpen(() => task.send({ data: `cycle ${i}` }));
    task.onMessage(({ data }) => {
      if (data !== `cycle ${i}`) reject(new Error(`cycle ${i}: echo was ${data}`));
      task.close();
    });
    task.onError(({ errMsg }) => reject(new Error(`cycle ${i}: ${errMsg}`)));
    task.onClose(resolve);
  });
}

function flood(seconds) {
  return new Promise((resolve, reject) => {
    const task = qq.connectSocket({ url: `${base}/flood?size=1024&kind=binary&count=1000000000` });
    let messages = 0;
    let bytes = 0;
    let peakRss = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 100);
    task.onOpen(() => setTimeout(() => task.close(), seconds * 1000));
    task.onMessage(({ data }) => {
      messages++;
      bytes += data.byteLength;
    });
    task.onError(({ errMsg }) => reject(new Error(`flood: ${errMsg}`)));
    task.onClose(() => {
      clearInterval(sampler);
      resolve({ messages, mb: bytes / 1e6, peakRssMiB: peakRss / MiB });
    });
  });
}

await cycle(-1); // warm up: JIT, the pool thread
const baseline = await snapshot();
const started = performance.now();
for (let i = 0; i < Number(args.cycles); i++) await cycle(i);
const cyclesSeconds = (performance.now() - started) / 1000;
const firstHalf = await flood(Number(args.flood) / 2);
const middle = await snapshot();
const secondHalf = await flood(Number(args.flood) / 2);
const after = await snapshot();
const flooded = {
  messages: firstHalf.messages + secondHalf.messages,
  mb: firstHalf.mb + secondHalf.mb,
  peakRssMiB: Math.max(firstHalf.peakRssMiB, secondHalf.peakRssMiB),
};
await qq.destroy();
await sleep(100);
const destroyed = { handles: handles(), threads: debug.threads() };
server.kill();

const growth = {
  heapMiB: after.heapMiB - baseline.heapMiB,
  arrayBuffersMiB: after.arrayBuffersMiB - baseline.arrayBuffersMiB,
  rssMiB: after.rssMiB - baseline.rssMiB,
  rssSecondHalfMiB: after.rssMiB - middle.rssMiB,
};
// RSS after a flood is what malloc kept of its peak, and a short flood's peak depends on how far
// the main thread fell behind at random moments (the suite runs files in parallel): halves of a
// second swing by ±40 MiB without a leak. The plateau is judged on floods of 20 s and more.
const judgeRss = Number(args.flood) >= 20;
const sameHandles = JSON.stringify(after.handles) === JSON.stringify(baseline.handles);
const problems = [
  growth.heapMiB > LIMITS.heapMiB && `heap grew ${growth.heapMiB.toFixed(1)} MiB`,
  growth.arrayBuffersMiB > LIMITS.arrayBuffersMiB && `ArrayBuffers grew ${growth.arrayBuffersMiB.toFixed(1)} MiB`,
  judgeRss &&
    growth.rssSecondHalfMiB > LIMITS.rssPlateauMiB &&
    `RSS still grew ${growth.rssSecondHalfMiB.toFixed(1)} MiB in the second half of the flood`,
  !sameHandles && `handles ${JSON.stringify(baseline.handles)} -> ${JSON.stringify(after.handles)}`,
  after.threads > baseline.threads && `threads ${baseline.threads} -> ${after.threads}`,
  destroyed.threads !== 0 && `${destroyed.threads} thread(s) after destroy()`,
  destroyed.handles.MessagePort && `${destroyed.handles.MessagePort} MessagePort(s) after destroy()`,
].filter(Boolean);
const report = {
  backend: args.backend,
  cycles: Number(args.cycles),
  cyclesPerSecond: Number(args.cycles) / cyclesSeconds,
  flood: { seconds: Number(args.flood), ...flooded },
  baseline,
  middle,
  after,
  growth,
  destroyed,
  rssPlateauJudged: judgeRss,
  problems,
};
console.log(JSON.stringify(report));
process.exit(problems.length > 0 ? 1 : 0);
