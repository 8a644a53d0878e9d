/**
 * The benches check every argument before anything starts (no build, no server, no browser): a
 * wrong one ends the run at once with exit code 2 and a line saying what is wrong.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { engineMissing } from './helpers/engines.js';

const script = (name: string) => fileURLToPath(new URL(`../bench/${name}`, import.meta.url));

/** Runs the bench script with `args`; resolves to its exit code and what it wrote to stderr. */
async function refused(name: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  try {
    await promisify(execFile)(process.execPath, [script(name), ...args], { timeout: 30_000 });
    return { code: 0, stderr: '' };
  } catch (error) {
    const { code, stderr } = error as { code: number | null; stderr: string };
    return { code, stderr };
  }
}

describe('bench arguments', () => {
  const RUN = 'bench: ';
  const WEB = 'bench:web: ';
  it.each([
    ['run.mjs', ['--bogus'], `${RUN}Unknown option '--bogus' (see the usage at the top of bench/run.mjs)`],
    [
      'run.mjs',
      ['--runs'],
      `${RUN}Option '--runs <value>' argument missing (see the usage at the top of bench/run.mjs)`,
    ],
    ['run.mjs', ['--runs', '0'], `${RUN}--runs must be a count of runs from 1 to 1000, not '0'`],
    ['run.mjs', ['--runs', '2.5'], `${RUN}--runs must be a count of runs from 1 to 1000, not '2.5'`],
    ['run.mjs', ['--only', 'nothing'], `${RUN}--only: no scenario's name contains any of 'nothing'`],
    ['run.mjs', ['--designs', 'nope'], `${RUN}--designs: no design's name contains any of 'nope'`],
    [
      'run.mjs',
      ['--designs', 'keyed', '--only', 'stall'],
      `${RUN}--designs: no design's name contains any of 'keyed' in the scenarios of --only 'stall'`,
    ],
    ['web.mjs', ['--runs', '0'], `${WEB}--runs must be one count of runs (5), not '0'`],
    ['web.mjs', ['--sizes', '16,x'], `${WEB}--sizes must be message sizes in bytes (16,1024,65536), not '16,x'`],
    ['web.mjs', ['--browser', 'lynx'], `${WEB}--browser: no engine 'lynx' (chromium, firefox, webkit)`],
    ['web.mjs', ['--only', 'both'], `${WEB}--only must be floods or ticks, not 'both'`],
    ['web.mjs', ['--record', '--json'], `${WEB}--record writes bench/results.json itself: not with --json`],
  ])('bench/%s refuses %j', async (name, args, message) => {
    expect(await refused(name, args)).toEqual({ code: 2, stderr: `${message}\n` });
  });

  // Chromium's recorded entry (bench/results.json) was not measured with 1000 runs a row.
  it.skipIf(engineMissing('chromium') !== undefined)(
    "bench/web.mjs will not record one part of an engine's rows beside the other measured otherwise",
    async () => {
      const old = JSON.parse(readFileSync(script('results.json'), 'utf8')).browser.chromium;
      expect(old?.runs).not.toBe(1000);
      const args = ['--browser', 'chromium', '--record', '--only', 'ticks', '--runs', '1000', '--no-build'];
      const { code, stderr } = await refused('web.mjs', args);
      expect(code).toBe(2);
      expect(stderr).toMatch(
        /^bench:web: --record --only ticks: chromium's recorded flood rows were measured otherwise \(/,
      );
      expect(stderr).toContain(`runs ${old.runs}, not 1000`);
      expect(stderr).toMatch(/\): record without --only\n$/);
    },
  );
});
