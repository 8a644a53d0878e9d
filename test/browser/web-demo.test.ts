/**
 * `npm run demo:web` as a user meets it, in each engine: the page, opened in two windows, shows
 * one live feed over one shared socket, with the feed's delay, and keeps receiving on a busy
 * page; switching a window to the main-thread WebSocket adds a socket of its own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Tab } from '../helpers/engines.js';
import { describeEngines } from '../helpers/page-suite.js';

let demo: ChildProcess;
let address: string;

beforeAll(async () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  demo = spawn(process.execPath, ['examples/web-demo.mjs'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  address = await new Promise<string>((resolve) => {
    demo.stdout?.on('data', (d: Buffer) => {
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(String(d));
      if (m) resolve(m[1] as string);
    });
  });
}, 60_000);
afterAll(() => {
  demo?.kill();
});

const shown = (page: Tab, id: string) => page.evaluate<string>(`document.getElementById('${id}').textContent`);
const number = async (page: Tab, id: string) => Number(String(await shown(page, id)).replace(/,/g, ''));
/** Clicks the element `selector` finds (a button, or a radio button it checks). */
const click = (page: Tab, selector: string) =>
  page.evaluate(`document.querySelector(${JSON.stringify(selector)}).click()`);
/** Waits for the condition, bounded only by the test's own timeout. */
const WAIT = { timeout: 50_000 };

describeEngines('the web demo', (pages) => {
  const engine = () => pages.engine;
  it('shows one live feed in two windows over one socket, its delay, a busy page, and the main-thread switch', async () => {
    // Windows, not tabs: both shown at once, animation frames running (the busy page's work
    // runs in them, and so do `deliver: 'frame'` deliveries).
    const [a, b] = [await engine().newTab({ window: true }), await engine().newTab({ window: true })];
    try {
      await a.goto(address);
      await b.goto(address);
      for (const page of [a, b]) {
        await expect.poll(() => shown(page, 'sockets'), WAIT).toBe('1');
        await expect.poll(() => number(page, 'rate'), WAIT).toBeGreaterThan(1000);
      }
      // The server drops the connection: the shared socket reconnects, once, for both windows.
      await click(a, '#drop');
      for (const page of [a, b]) await expect.poll(() => shown(page, 'healed'), WAIT).toBe('healed on retry 1.');
      await expect.poll(() => shown(b, 'sockets'), WAIT).toBe('1');
      // qq.stats() on the page: messages in, the share's two holders.
      await expect.poll(() => shown(a, 'stats'), WAIT).toMatch(/^qq\.stats\(\): [\d,]+ messages in, .* 2 holder\(s\)/);
      // The feed delay: how old the newest tick is, a number of ms.
      await expect.poll(() => shown(a, 'delay'), WAIT).toMatch(/^[\d,]+$/);
      // A busy page (12 ms of its own work each frame) still receives: once its frames show the
      // work, a second's count is a busy page's.
      await click(a, 'input[name=work][value="12"]');
      await expect.poll(() => number(a, 'frame'), WAIT).toBeGreaterThanOrEqual(12);
      await expect.poll(() => number(a, 'rate'), WAIT).toBeGreaterThan(1000);
      // The keyed stage: B's ticks are parsed in the shared worker (a share of its own: the stage is
      // part of what must match), and B still counts every tick and shows the newest price.
      await click(b, 'input[value=stage]');
      await expect.poll(() => shown(b, 'sockets'), WAIT).toBe('2');
      const price = await shown(b, 'price');
      await expect.poll(() => shown(b, 'price'), WAIT).not.toBe(price);
      await expect.poll(() => number(b, 'rate'), WAIT).toBeGreaterThan(1000);
      // The main-thread switch: a socket of its own beside B's.
      await click(a, 'input[value=main]');
      await expect.poll(() => shown(a, 'price'), WAIT).toMatch(/^\d+\.\d{3}$/);
      await expect.poll(() => shown(b, 'sockets'), WAIT).toBe('2');
    } finally {
      await a.close();
      await b.close();
    }
  }, 180_000);
});
