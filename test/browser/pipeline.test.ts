/**
 * Pipelines in real pages of Chromium, Firefox and WebKit (issue 22): the app's stage runs in the
 * Web Worker or the SharedWorker (in WebKit, `shared` elects a leader tab, whose Web Worker runs
 * it), never in the page. A page held still while the server floods gets the latest value per
 * key, `skipped` exact (WebKit lets the page go after 10 s, and only then does its worker get the
 * flood); a shared socket runs its stage once and every tab gets every value;
 * `deliver: 'frame'` hands a page (shown, in a window of its own) at most one batch of values per
 * animation frame. Each engine runs the same tests (page-suite.ts).
 */
import { expect, it } from 'vitest';
import { expectWholeBook, type Got } from '../conformance/pipelines.js';
import type { Tab } from '../helpers/engines.js';
import { describeEngines } from '../helpers/page-suite.js';
import { WAIT } from '../helpers/record.js';

const TEST_TIMEOUT = 120_000;
const values = (tab: Tab) => tab.evaluate<Got[]>('window.values');

describeEngines('pipelines', (pages) => {
  /** A page whose task runs `stage` of the fixture module; its values in `window.values`. */
  async function openPage(
    path: string,
    stage: string,
    {
      backend = 'worker',
      share = false,
      deliver,
      holdAt,
      window = false,
    }: { backend?: string; share?: boolean; deliver?: string; holdAt?: string; window?: boolean } = {},
  ): Promise<Tab> {
    const tab = await pages.newTab({ window });
    await tab.goto(`${pages.web.origin}/`);
    await tab.evaluate(`(async () => {
    const { createQQ } = await import('/dist/browser/index.js');
    window.values = [];
    window.events = [];
    window.qq = createQQ({ backend: ${JSON.stringify(backend)}, pipeline: '/fixtures/feed.pipeline.mjs' });
    window.task = qq.connectSocket({
      url: ${JSON.stringify(`${pages.server.url}${path}`)},
      pipeline: ${JSON.stringify(stage)},
      share: ${share},
      ${deliver === undefined ? '' : `deliver: ${JSON.stringify(deliver)},`}
    });
    task.onMessage(({ data, key, skipped }) => values.push(key === undefined ? { data } : { data, key, skipped }));
    ${
      holdAt === undefined
        ? ''
        : `let held = false;
    task.onMessage(() => {
      if (held) return;
      held = true; // blocked at its first value, until the test releases it
      const x = new XMLHttpRequest();
      x.open('GET', ${JSON.stringify(holdAt)}, false);
      try {
        x.send();
        window.holdEnd = x.responseText;
      } catch (error) {
        window.holdEnd = String(error);
      }
    });`
    }
    task.onError(({ errMsg }) => events.push({ error: errMsg }));
    task.onClose(({ code }) => events.push({ close: code }));
    await new Promise((resolve) => task.onOpen(resolve));
  })()`);
    return tab;
  }

  for (const backend of ['worker', 'shared']) {
    it(
      `${backend} backend: gives a page held still the latest value per key, skipped exact, and no backlog`,
      async () => {
        const n = 5000;
        const keys = 10;
        // Counted from this test on: the server's log holds earlier tests' connections too.
        const sawDone = () => pages.server.log.received.flat().filter((m) => m === 'the stage saw done').length;
        const before = sawDone();
        const saw = () => sawDone() > before;
        // Held from its first value: the stage in the worker works through the whole book
        // meanwhile (in WebKit, once the hold has timed out: below), and says so to the server
        // when it saw the last message.
        const hold = pages.web.holdPoint();
        const page = await openPage(`/book/${n}/${keys}`, 'book', { backend, holdAt: hold.path });
        await hold.arrived;
        await expect.poll(saw, WAIT).toBe(true);
        hold.release();
        await expect.poll(async () => (await values(page)).at(-1), WAIT).toEqual({ data: { done: true } });
        // How the page's hold ended. WebKit gives a dedicated worker's WebSocket no message while
        // its page is blocked in a synchronous XMLHttpRequest (seen: the first of a book reached
        // the worker a millisecond after the hold ended), and ends such a request itself after
        // 10 s (seen: 10,015 ms) with a TimeoutError: there the stage works through the book only
        // once the page has let itself go, and the values come faster than the page takes them.
        expect(await page.evaluate('window.holdEnd')).toBe(
          pages.name === 'webkit' ? 'TimeoutError: The operation timed out.' : 'released',
        );
        const got = await values(page);
        expectWholeBook(got, n, keys);
        expect(got.length).toBeLessThan(n / 10); // the latest per key, not a backlog
        expect(got.some((v) => (v.skipped as number) > 0)).toBe(true);
        expect(await page.evaluate('window.events')).toEqual([]);
      },
      TEST_TIMEOUT,
    );

    it(
      `${backend} backend: delivers at most one batch of values per animation frame with deliver: 'frame'`,
      async () => {
        const n = 20_000;
        // In a window of its own: WebKit opens a context's tab behind the session's first one,
        // hidden (visibilityState 'hidden'), and gives it no animation frame at all.
        const page = await openPage(`/book/${n}/10`, 'book', { backend, deliver: 'frame', window: true });
        // Counted per frame: the tasks that dispatched values between two animation frames.
        await page.evaluate(`(() => {
      window.most = 0;
      let tasks = 0;
      let inTask = false;
      task.onMessage(() => {
        if (inTask) return;
        inTask = true;
        tasks++;
        queueMicrotask(() => { inTask = false; });
      });
      const frame = () => {
        most = Math.max(most, tasks);
        tasks = 0;
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    })()`);
        await expect.poll(async () => (await values(page)).at(-1), WAIT).toEqual({ data: { done: true } });
        expectWholeBook(await values(page), n, 10);
        expect(await page.evaluate('most')).toBe(1);
      },
      TEST_TIMEOUT,
    );
  }

  it(
    'a shared socket runs the stage once for the socket, and gives every tab every value',
    async () => {
      const before = pages.server.log.accepted;
      const a = await openPage('/echo', 'talker', { backend: 'shared', share: true });
      const b = await openPage('/echo', 'talker', { backend: 'shared', share: true });
      expect(pages.server.log.accepted - before).toBe(1);
      // One greeting from the host: the stage ran once, on open.
      await expect.poll(() => values(a), WAIT).toHaveLength(1);
      expect(pages.server.log.received.at(-1)?.filter((m) => String(m).startsWith('hello from the host'))).toHaveLength(
        1,
      );
      // A late joiner gets what the stage emits from now on; both get each value.
      await b.evaluate(`task.send({ data: 'from b' })`);
      for (const page of [a, b]) {
        await expect.poll(async () => (await values(page)).at(-1), WAIT).toEqual({ data: 'from b' });
      }
      await a.evaluate(`task.send({ data: { n: 1 } })`);
      for (const page of [a, b]) {
        await expect.poll(async () => (await values(page)).at(-1), WAIT).toEqual({ data: 'sent {"n":1}' });
      }
    },
    TEST_TIMEOUT,
  );
});
