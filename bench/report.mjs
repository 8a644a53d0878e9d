// What bench/run.mjs and bench/web.mjs share to report their runs: medians, numbers, tables.

/** The median of `xs` (the mean of the middle two for an even count). */
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** `v` with thousands separators and `digits` decimals; '' for a figure a row does not have. */
export const fmt = (v, digits = 0) =>
  v === undefined
    ? ''
    : Number(v).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A Markdown table, its columns padded to line up. */
export const markdownTable = (header, lines) => {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  return [header, widths.map((w) => '-'.repeat(w)), ...lines]
    .map((l) => `| ${l.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`)
    .join('\n');
};
