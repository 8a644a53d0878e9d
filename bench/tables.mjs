// `node bench/tables.mjs`: writes the tables of bench/results.json into the pages that show them
// (docs/performance.md in full, README.md a summary), each between `<!-- tables:start NAME -->`
// and `<!-- tables:end -->`, so the figures on those pages are always the recorded ones.
// bench/results.json is the latest full run: `npm run bench -- --json --out bench/results.json`, or
// for the browsers alone `npm run bench:web -- --record` (each engine's entry replaced, the rest kept).
//   node bench/tables.mjs            rewrite the regions
//   node bench/tables.mjs --check    write nothing; exit 1 if a page is not what it would write (npm test)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { browserTable, failureNote, fmt, markdownTable, nodeTable, tickTable } from './report.mjs';

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
/** The browser rows the README shows for each engine: `worker` against the native WebSocket, on a busy page. */
const BROWSER_SUMMARY = ['recv 1 KiB binary', 'recv 64 KiB binary'];
const BUSY_MS = 12;
/** The pipeline rows the README shows: the keyed stage, in Node and on a busy page. */
const BOOK = 'book 300 B JSON, 100 symbols';
const TICKS = 'JSON ticks 5,000/s, 10 symbols';
/** The engines, in the order the pages show them, and how a page names each. */
const ENGINES = { chromium: 'Chromium', firefox: 'Firefox', webkit: 'WebKit' };
/** How each engine ran: with no client attached, or driven as the suites drive it. */
const SETTING = {
  chromium: ['headless', 'driven by Playwright over CDP'],
  firefox: ['headless', 'driven by puppeteer over WebDriver BiDi'],
  webkit: ['in a window on Xvfb', 'driven by WebKitWebDriver'],
};
/** The recorded run of `engine`; throws if there is none. */
const engine = (name) => {
  const entry = results.browser?.[name];
  if (entry === undefined) throw new Error(`bench/results.json has no browser run for ${name}`);
  return entry;
};

function summary() {
  const lines = [];
  for (const scenario of NODE_SUMMARY) {
    const r = row(results.rows, scenario, 'qq thread');
    lines.push([`${scenario}`, `${fmt(r.ratio, 2)}× \`ws\``, `${fmt(r.cpuRatio, 2)}× \`ws\`'s`]);
  }
  const book = row(results.rows, BOOK, 'qq thread + keyed stage');
  lines.push(['order book, keyed stage', `${fmt(book.ratio, 2)}× \`ws\``, `${fmt(book.cpuRatio, 2)}× \`ws\` + parse`]);
  const node = markdownTable(['Node, `thread`', 'messages a second', 'main-thread CPU a message'], lines);
  const names = Object.keys(ENGINES).filter((name) => results.browser?.[name] !== undefined);
  const cells = BROWSER_SUMMARY.map((scenario) => [
    scenario,
    ...names.map((name) => {
      const r = row(engine(name).rows, scenario, 'worker', BUSY_MS);
      const native = row(engine(name).rows, scenario, 'native', BUSY_MS);
      return `${fmt(r.ratio, 2)}×${r.failed ? ' ✗' : ''}, ${fmt(r.fps)} fps (${fmt(native.fps)})`;
    }),
  ]);
  cells.push([
    'ticks, keyed stage',
    ...names.map((name) => {
      const ticks = row(engine(name).tickRows, TICKS, 'worker + keyed stage');
      const native = row(engine(name).tickRows, TICKS, 'native + parse');
      return `${fmt(ticks.fps)} fps, age ${fmt(ticks.ageP95Ms)} ms (${fmt(native.fps)}, ${fmt(native.ageP95Ms)})`;
    }),
  ]);
  const browsers = markdownTable(['`worker` (native)', ...names.map(short)], cells);
  const failed = names.some((name) =>
    BROWSER_SUMMARY.some((sc) => row(engine(name).rows, sc, 'worker', BUSY_MS).failed),
  );
  const note = failed ? '\n\n✗: the page fell behind and was let go ([why](docs/performance.md#firefox)).' : '';
  return `${node}\n\n${browsers}${note}`;
}

const machine = () => `Machine: ${results.machine}. Medians of ${results.runs} runs (stall: 1 run).`;
/** The line above an engine's tables: its version, how it ran, and when. */
const browser = (name) => {
  const entry = engine(name);
  const [how, driven] = SETTING[name];
  const when = entry.date === undefined ? '' : `, run of ${entry.date}`;
  return `${entry.browser}, ${how}, ${entry.driven ? driven : 'no automation client attached'}; medians of ${entry.runs} runs of ${entry.seconds} s${when}.`;
};
/** `Chromium 156`, `Firefox 153`, `WebKitGTK 2.50`: an engine's name in the README's summary. */
const short = (name) => {
  const version = /\d+\.\d+/.exec(engine(name).browser)?.[0] ?? '';
  return name === 'webkit' ? `WebKitGTK ${version}` : `${ENGINES[name]} ${version.split('.')[0]}`;
};

/** Every region, by page and name. */
const PAGES = {
  'docs/performance.md': {
    node: () => `${machine()}\n\n${nodeTable(results.rows)}`,
    ...Object.fromEntries(
      Object.keys(ENGINES).flatMap((name) => [
        [
          `browser-${name}`,
          () => {
            if (results.browser?.[name] === undefined)
              return `No run of ${ENGINES[name]} is recorded in bench/results.json.`;
            const note = failureNote(engine(name).rows);
            return `${browser(name)}\n\n${browserTable(engine(name).rows)}${note ? `\n\n${note}` : ''}`;
          },
        ],
        [
          `ticks-${name}`,
          () =>
            results.browser?.[name] === undefined
              ? `No run of ${ENGINES[name]} is recorded in bench/results.json.`
              : `${browser(name)} Page busy ${engine(name).tickRows[0].busyMs} ms a frame.\n\n${tickTable(engine(name).tickRows)}`,
        ],
      ]),
    ),
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
