// `node bench/tables.mjs`: writes the tables of bench/results.json into the pages that show them
// (docs/performance.md in full, README.md a summary), each between `<!-- tables:start NAME -->`
// and `<!-- tables:end -->`, so the figures on those pages are always the recorded ones.
// bench/results.json is the latest full run: `npm run bench -- --json --out bench/results.json`.
//   node bench/tables.mjs            rewrite the regions
//   node bench/tables.mjs --check    write nothing; exit 1 if a page is not what it would write (npm test)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { browserTable, fmt, markdownTable, nodeTable, tickTable } from './report.mjs';

const { values: args } = parseArgs({ options: { check: { type: 'boolean' } } });
const path = (file) => fileURLToPath(new URL(`../${file}`, import.meta.url));
const results = JSON.parse(readFileSync(path('bench/results.json'), 'utf8'));

/** The row of `scenario` and `design` (and `busyMs`, for the browser's); throws if there is none. */
function row(rows, scenario, design, busyMs) {
  const found = rows?.find(
    (r) => r.scenario === scenario && r.design === design && (busyMs === undefined || r.busyMs === busyMs),
  );
  if (found === undefined || found.error !== undefined) {
    throw new Error(`bench/results.json has no result for ${scenario}, ${design}`);
  }
  return found;
}

/** The Node rows the README shows: `qq thread` against `ws` on the main thread. */
const NODE_SUMMARY = ['recv 16 B text', 'recv 1 KiB binary', 'recv 64 KiB binary', 'send 1 KiB flood'];
/** The browser rows the README shows: `worker` against the native WebSocket, on a busy page. */
const BROWSER_SUMMARY = ['recv 1 KiB binary', 'recv 64 KiB binary'];
const BUSY_MS = 12;
/** The pipeline rows the README shows: the keyed stage, in Node and on a busy page. */
const BOOK = 'book 300 B JSON, 100 symbols';
const TICKS = 'JSON ticks 5,000/s, 10 symbols';

function summary() {
  const lines = [];
  for (const scenario of NODE_SUMMARY) {
    const r = row(results.rows, scenario, 'qq thread');
    lines.push([
      `Node: ${scenario}`,
      '`thread`',
      `${fmt(r.ratio, 2)}× \`ws\``,
      `CPU a message: ${fmt(r.cpuRatio, 2)}× \`ws\`'s`,
    ]);
  }
  for (const scenario of BROWSER_SUMMARY) {
    const r = row(results.browser.rows, scenario, 'worker', BUSY_MS);
    const native = row(results.browser.rows, scenario, 'native', BUSY_MS);
    lines.push([
      `Chromium, busy page: ${scenario}`,
      '`worker`',
      `${fmt(r.ratio, 2)}× native`,
      `${fmt(r.fps, 1)} fps (native ${fmt(native.fps, 1)})`,
    ]);
  }
  const book = row(results.rows, BOOK, 'qq thread + keyed stage');
  lines.push([
    'Node: order book, keyed stage',
    '`thread`',
    `${fmt(book.ratio, 2)}× \`ws\``,
    `CPU a message: ${fmt(book.cpuRatio, 2)}× \`ws\` + parse`,
  ]);
  const ticks = row(results.browser.tickRows, TICKS, 'worker + keyed stage');
  const native = row(results.browser.tickRows, TICKS, 'native + parse');
  lines.push([
    'Chromium, busy page: ticks, keyed stage',
    '`worker`',
    `${fmt(ticks.parsedPerSec / native.parsedPerSec, 2)}× native`,
    `${fmt(ticks.fps, 1)} fps, tick age p95 ${fmt(ticks.ageP95Ms)} ms (native ${fmt(native.ageP95Ms)})`,
  ]);
  return markdownTable(['scenario', 'backend', 'messages a second', 'main thread'], lines);
}

const machine = () => `Machine: ${results.machine}. Medians of ${results.runs} runs (stall: 1 run).`;
const browser = () =>
  `${results.browser.browser}, headless, ${results.browser.devtools ? 'under DevTools (Playwright)' : 'no DevTools attached'}.`;

/** Every region, by page and name. */
const PAGES = {
  'docs/performance.md': {
    node: () => `${machine()}\n\n${nodeTable(results.rows)}`,
    browser: () => `${browser()}\n\n${browserTable(results.browser.rows)}`,
    ticks: () =>
      `${browser()} Page busy ${results.browser.tickRows[0].busyMs} ms a frame.\n\n${tickTable(results.browser.tickRows)}`,
  },
  'README.md': {
    summary,
  },
};

const REGION = /(<!-- tables:start ([\w-]+) -->\n)[\s\S]*?(<!-- tables:end -->)/g;
/** Each page's text as it is and as it should be; throws before writing anything on a bad page. */
const pages = Object.entries(PAGES).map(([page, regions]) => {
  const text = readFileSync(path(page), 'utf8');
  const seen = new Set();
  const fresh = text.replace(REGION, (_, start, name, end) => {
    const render = regions[name];
    if (render === undefined) throw new Error(`${page}: no tables named '${name}'`);
    seen.add(name);
    return `${start}\n${render()}\n\n${end}`;
  });
  for (const name of Object.keys(regions)) {
    if (!seen.has(name)) throw new Error(`${page}: no region <!-- tables:start ${name} -->`);
  }
  return { page, text, fresh };
});
for (const { page, text, fresh } of pages) {
  if (fresh === text) continue;
  if (args.check) {
    console.error(`${page}: its tables differ from bench/results.json (run node bench/tables.mjs)`);
    process.exitCode = 1;
  } else {
    writeFileSync(path(page), fresh);
    console.log(`${page}: tables written`);
  }
}
