// `npm run bench`: every design side by side in one run, against a flood/echo server in its own
// process on 127.0.0.1, then bench/web.mjs (the browser bench, in every engine installed here).
// Each design × scenario runs in a fresh process (its own peak RSS), with one warm-up and
// `--runs` measured runs (default 5); figures are medians.
//   npm run bench                        the tables
//   npm run bench -- --json              also write every result as JSON (--out, default bench-results.json)
//   npm run bench -- --only recv,stall   scenarios whose name contains one of these (no browser bench)
//   npm run bench -- --designs thread,Buffer   designs whose name contains one of these (no browser bench)
import { execFile, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { median, nodeTable, refuser } from './report.mjs';

const refuse = refuser('bench');
let args;
try {
  ({ values: args } = parseArgs({
    options: {
      json: { type: 'boolean' },
      out: { type: 'string', default: 'bench-results.json' },
      runs: { type: 'string', default: '5' },
      only: { type: 'string' },
      designs: { type: 'string' },
    },
  }));
} catch (error) {
  // An unknown option, or one without its value: refused before anything starts.
  refuse(`${error.message} (see the usage at the top of bench/run.mjs)`);
}
if (!/^\d+$/.test(args.runs) || Number(args.runs) < 1 || Number(args.runs) > 1000) {
  refuse(`--runs must be a count of runs from 1 to 1000, not '${args.runs}'`);
}
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const run = promisify(execFile);

const BASELINE = 'ws (Buffer)';
const chosen = (d) => !args.designs || args.designs.split(',').some((x) => d.includes(x));
const DESIGNS = ['ws (Buffer)', 'ws (arraybuffer)', 'node WebSocket', 'qq inline', 'qq thread'].filter(chosen);
const SCENARIOS = [
  'recv 16 B text',
  'recv 16 B binary',
  'recv 1 KiB text',
  'recv 1 KiB binary',
  'recv 64 KiB text',
  'recv 64 KiB binary',
  'echo 16 B x100 in flight',
  'paced 1k/s round trip',
  'send 16 B flood',
  'send 1 KiB flood',
  'book 300 B JSON, 100 symbols',
  'stall',
].filter((s) => !args.only || args.only.split(',').some((x) => s.includes(x)));
/** The stall scenario compares only the designs where a stalled main thread is a question. */
const STALL_DESIGNS = ['ws (Buffer)', 'qq inline', 'qq thread'];
/** The order book: the app's parse on the main thread (ws, qq), in the host, and folded there too. */
const BOOK_DESIGNS = ['ws (Buffer)', 'qq thread', 'qq thread + json stage', 'qq thread + keyed stage'].filter(chosen);
const designsOf = (scenario) =>
  scenario === 'stall'
    ? STALL_DESIGNS.filter((d) => DESIGNS.includes(d))
    : scenario.startsWith('book')
      ? BOOK_DESIGNS
      : DESIGNS;
if (SCENARIOS.length === 0) refuse(`--only: no scenario's name contains any of '${args.only}'`);
if (SCENARIOS.every((scenario) => designsOf(scenario).length === 0)) {
  const only = args.only === undefined ? '' : ` in the scenarios of --only '${args.only}'`;
  refuse(`--designs: no design's name contains any of '${args.designs}'${only}`);
}

const server = spawn(process.execPath, [here('./server.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve) => {
  server.stdout.on('data', (d) => {
    const m = /PORT (\d+)/.exec(String(d));
    if (m) resolve(m[1]);
  });
});

const rows = [];
for (const scenario of SCENARIOS) {
  for (const design of designsOf(scenario)) {
    const nodeArgs = design === 'node WebSocket' ? ['--experimental-websocket', '--no-warnings'] : [];
    const cell = [...nodeArgs, here('./client.mjs'), '--design', design, '--scenario', scenario, '--port', port];
    cell.push('--runs', args.runs);
    try {
      const { stdout } = await run(process.execPath, cell, { timeout: 300_000, maxBuffer: 1 << 24 });
      const out = JSON.parse(stdout.trim().split('\n').at(-1));
      const r = out.results;
      const row = {
        scenario,
        design,
        runs: r.length,
        msgsPerSec: median(r.map((x) => x.msgsPerSec)),
        mbPerSec: median(r.map((x) => x.mbPerSec)),
        cpuUsPerMsg: median(r.map((x) => x.cpuUsPerMsg)),
        eldP99Ms: median(r.map((x) => x.eldP99Ms)),
        peakRssMiB: out.peakRss / 2 ** 20,
        rssGrowthMiB: (out.peakRss - out.rssBaseline) / 2 ** 20,
      };
      if (r[0].rttP50Us !== undefined) {
        row.rttP50Us = median(r.map((x) => x.rttP50Us));
        row.rttP99Us = median(r.map((x) => x.rttP99Us));
      }
      if (r[0].inOrder !== undefined) row.allInOrder = r.every((x) => x.inOrder && x.msgs > 0);
      if (r[0].deliveriesPerSec !== undefined) row.deliveriesPerSec = median(r.map((x) => x.deliveriesPerSec));
      rows.push(row);
    } catch (error) {
      rows.push({ scenario, design, error: String(error.message).split('\n')[0] });
    }
    process.stderr.write('.');
  }
}
server.kill();
process.stderr.write('\n');

for (const row of rows) {
  const base = rows.find((r) => r.scenario === row.scenario && r.design === BASELINE);
  if (base && !row.error && !base.error) {
    row.ratio = row.msgsPerSec / base.msgsPerSec;
    row.cpuRatio = row.cpuUsPerMsg / base.cpuUsPerMsg;
  }
}

const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}, ${os.platform()} ${os.release()}`;
console.log(`Machine: ${machine}. Medians of ${args.runs} runs (stall: 1 run).\n`);
console.log(nodeTable(rows));

/** The browser bench, unless this run was narrowed to some Node rows; its JSON joins ours. */
let browser;
if (!args.only && !args.designs) {
  console.log('');
  const webOut = `${args.out}.web.tmp`;
  const web = spawn(
    process.execPath,
    [here('./web.mjs'), '--no-build', ...(args.json ? ['--json', '--nested', '--out', webOut] : [])],
    {
      stdio: 'inherit',
    },
  );
  const code = await new Promise((resolve) => web.on('exit', resolve));
  if (code !== 0) process.exitCode = 1;
  if (args.json) {
    try {
      browser = JSON.parse(readFileSync(webOut, 'utf8'));
      rmSync(webOut);
    } catch {
      browser = undefined; // no browser here: the browser bench said so and wrote nothing
    }
  }
}
if (args.json) {
  writeFileSync(args.out, `${JSON.stringify({ machine, runs: Number(args.runs), rows, browser }, null, 2)}\n`);
  console.log(`\nJSON: ${args.out}`);
}
