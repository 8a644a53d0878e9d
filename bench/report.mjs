// What bench/run.mjs and bench/web.mjs share: refusing a wrong argument, and reporting their runs:
// medians, numbers, tables
// (bench/tables.mjs writes the same tables into docs/performance.md from bench/results.json).

/** A wrong argument ends bench `tool` at once, before anything started: one line, exit 2. */
export const refuser = (tool) => (message) => {
  console.error(`${tool}: ${message}`);
  process.exit(2);
};

/** The median of `xs` (the mean of the middle two for an even count). */
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * `v` with thousands separators and `digits` decimals; '' for a figure a row does not have, 'n/a'
 * for one its engine cannot give (null: long tasks outside Chromium).
 */
export const fmt = (v, digits = 0) =>
  v === undefined
    ? ''
    : v === null
      ? 'n/a'
      : Number(v).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A Markdown table, its columns padded to line up. */
export const markdownTable = (header, lines) => {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  return [header, widths.map((w) => '-'.repeat(w)), ...lines]
    .map((l) => `| ${l.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`)
    .join('\n');
};

/** The Node bench's table (bench/run.mjs), from its rows as bench/results.json keeps them. */
export const nodeTable = (rows) => {
  const header = [
    'scenario',
    'design',
    'msgs/s',
    'MB/s',
    '× ws',
    'main CPU µs/msg',
    'CPU × ws',
    'loop p99 ms',
    'peak RSS MiB',
    'extra',
  ];
  const lines = rows.map((r) =>
    r.error
      ? [r.scenario, r.design, 'error', r.error, '', '', '', '', '', '']
      : [
          r.scenario,
          r.design,
          fmt(r.msgsPerSec),
          fmt(r.mbPerSec, 1),
          fmt(r.ratio, 2),
          fmt(r.cpuUsPerMsg, 3),
          fmt(r.cpuRatio, 2),
          fmt(r.eldP99Ms, 1),
          fmt(r.peakRssMiB),
          [
            r.rttP50Us !== undefined ? `rtt p50 ${fmt(r.rttP50Us)} µs, p99 ${fmt(r.rttP99Us)} µs` : '',
            r.allInOrder !== undefined ? `RSS +${fmt(r.rssGrowthMiB)} MiB, all in order: ${r.allInOrder}` : '',
            r.deliveriesPerSec !== undefined ? `${fmt(r.deliveriesPerSec)} deliveries/s` : '',
          ].join(''),
        ],
  );
  return markdownTable(header, lines);
};

/** The browser bench's table (bench/web.mjs), from its rows as bench/results.json keeps them. */
export const browserTable = (rows) => {
  const header = [
    'scenario',
    'page busy ms/frame',
    'design',
    'msgs/s',
    '× native',
    'fps',
    'long tasks',
    'longest task ms',
  ];
  const lines = rows.map((r) => [
    r.scenario,
    r.busyMs,
    r.design,
    `${fmt(r.msgsPerSec)}${r.failed ? ' ✗' : ''}`,
    fmt(r.ratio, 2),
    fmt(r.fps, 1),
    fmt(r.longTasks),
    fmt(r.longestTaskMs),
  ]);
  return markdownTable(header, lines);
};

/** What the ✗ of the browser table means, for the rows that have one ('' when none). */
export const failureNote = (rows) => {
  const failed = rows.filter((r) => r.failed);
  if (failed.length === 0) return '';
  const messages = [...new Set(failed.map((r) => `\`${r.failed}\``))].join(', ');
  const runs = failed.reduce((sum, r) => sum + r.failedRuns, 0);
  return `✗: the task got \`onError\` (${messages}) in ${runs} runs of these ${failed.length} rows; msgs/s counts what the page received before it.`;
};

/** The browser bench's tick table (bench/web.mjs), from its tick rows as bench/results.json keeps them. */
export const tickTable = (rows) => {
  const header = [
    'ticks/s sent',
    'design',
    'ticks parsed/s',
    'fps',
    'long tasks',
    'newest tick age p50 ms',
    'p95 ms',
    'deliveries/s',
    'batches/s',
    'skipped/s',
  ];
  const lines = rows.map((r) => [
    fmt(r.ticksPerSec),
    r.design,
    fmt(r.parsedPerSec),
    fmt(r.fps, 1),
    fmt(r.longTasks),
    fmt(r.ageP50Ms),
    fmt(r.ageP95Ms),
    fmt(r.deliveriesPerSec),
    fmt(r.batchesPerSec),
    fmt(r.skippedPerSec),
  ]);
  return markdownTable(header, lines);
};
