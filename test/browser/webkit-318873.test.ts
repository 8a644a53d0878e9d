/**
 * WebKit bug 318873 in WebKitGTK (issue 20, item 4). Closing or navigating away the tab that
 * created a shared worker does not re-run the worker here, but a crash of that tab's web process
 * does: the worker ran in that process, and WebKit starts its script again in another tab's
 * process under the ports that tab already holds, without an event on them. The new run has none
 * of the old one's state (its sockets died with the process). The `shared` backend must not lose
 * the other tab's tasks silently there: each gets onError + onClose(1006), on a secure origin
 * (Web Locks: the dead run's life lock frees) and on an insecure one (no Web Locks: the new run
 * says who it is on the port, and the tab sees another host than the one it had).
 *
 * WebDriver ends its session when a page's process dies, so MiniBrowser runs here on its own
 * (minibrowser.ts), one tab per page; the test kills the creator tab's WebKitWebProcess itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StaticServer, startStaticServer } from '../helpers/chromium.js';
import { engineMissing } from '../helpers/engines.js';
import { launchMiniBrowser, type MiniBrowser, type RemoteTab } from '../helpers/minibrowser.js';
import { WAIT } from '../helpers/record.js';
import { startWsServer, type TestServer } from '../helpers/servers.js';

const missing = engineMissing('webkit');

/** A host name only the static server, as the browser's proxy, knows: an insecure origin. */
const INSECURE = 'http://insecure.test';

let web: StaticServer;
let server: TestServer;
let browser: MiniBrowser;

type Event = [task: string, event: string, ...details: unknown[]];
const events = (tab: RemoteTab) => tab.evaluate<Event[]>('window.events');

/**
 * Starts the tab's `shared` instance (`window.qq`): a `share: true` task to /echo (`shared`), and
 * in `others` a task without share (`own`), each recording its events in `window.events`; and a
 * port to identity.shared-worker.js (`window.ask()`: which run of that script answers, and how
 * many ports it got).
 */
function start(tab: RemoteTab, { others = false } = {}): Promise<unknown> {
  return tab.evaluate(`(async () => {
    const { createQQ } = await import('/dist/browser/index.js');
    window.events = [];
    window.track = (name, task) => {
      task.onOpen(() => events.push([name, 'open']));
      task.onMessage(({ data }) => events.push([name, 'message', data]));
      task.onError(({ errMsg }) => events.push([name, 'error', errMsg]));
      task.onClose(({ code, reason }) => events.push([name, 'close', code, reason]));
      window[name] = task;
      return task;
    };
    window.qq = createQQ({ backend: 'shared', sharing: 'shared-worker' }); // auto elects a leader in WebKit
    const url = ${JSON.stringify(`${server.url}/echo`)};
    const tasks = [track('shared', qq.connectSocket({ url, share: true }))];
    if (${others}) tasks.push(track('own', qq.connectSocket({ url })));
    await Promise.all(tasks.map((task) => new Promise((resolve) => task.onOpen(resolve))));
    const probe = new SharedWorker('/fixtures/identity.shared-worker.js').port;
    // A message posted as the worker's process dies may be lost: then ask() says so (null).
    window.ask = () => new Promise((resolve) => {
      probe.onmessage = ({ data }) => resolve(data);
      probe.postMessage('who');
      setTimeout(() => resolve(null), 1000);
    });
    return ask();
  })()`);
}

/** Sends `text` on the task named `name` in the tab, with its callbacks' results. */
const send = (tab: RemoteTab, name: string, text: string) =>
  tab.evaluate(`new Promise((resolve) => {
    const calls = [];
    ${name}.send({ data: ${JSON.stringify(text)}, success: (r) => calls.push(['success', r.errMsg]), fail: (r) => calls.push(['fail', r.errMsg]), complete: () => resolve(calls) });
  })`);

describe.skipIf(missing !== undefined)(
  `WebKit 318873: a tab's shared host re-run under its port${missing ? ` (${missing})` : ''}`,
  () => {
    beforeAll(async () => {
      [web, server] = await Promise.all([startStaticServer(), startWsServer()]);
      browser = await launchMiniBrowser(
        [
          { name: 'A', origin: web.origin },
          { name: 'B', origin: web.origin },
          { name: 'insecure A', origin: INSECURE },
          { name: 'insecure B', origin: INSECURE },
        ],
        // The static server answers a proxy's requests (absolute URLs) as its own.
        { proxy: web.origin },
      );
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await Promise.all([web?.close(), server?.close()]);
    });

    it.each([
      ['a secure origin (Web Locks)', 'A', 'B', true],
      ['an insecure origin (no Web Locks)', 'insecure A', 'insecure B', false],
    ])(
      'on %s, the other tab gets onError + onClose(1006) for each task, and a fresh host',
      async (_, creator, other, secure) => {
        const [a, b] = await Promise.all([browser.tab(creator), browser.tab(other)]);
        expect(await a.evaluate('[isSecureContext, typeof navigator.locks]')).toEqual(
          secure ? [true, 'object'] : [false, 'undefined'],
        );
        // A first: the shared workers it creates run in its web process.
        const before = server.log.accepted;
        const run = (await start(a)) as { id: string; connects: number };
        expect(await start(b, { others: true })).toEqual({ id: run.id, connects: 2 });
        expect(server.log.accepted - before).toBe(2); // one shared socket; B's own
        expect(await send(b, 'shared', 'before')).toEqual([['success', 'sendSocketMessage:ok']]);
        await expect.poll(() => events(b), WAIT).toContainEqual(['shared', 'message', 'before']);

        const closes = server.log.closes.length;
        process.kill(await a.webProcess(), 'SIGKILL');
        // WebKit runs the worker's script again, under the port B holds: another id, one port.
        await expect
          .poll(async () => ((await b.evaluate('ask()')) as typeof run | null)?.id ?? run.id, WAIT)
          .not.toBe(run.id);
        expect(await b.evaluate('ask()')).toEqual({ id: expect.any(String), connects: 1 });
        // The sockets died with the process (no close frame); each of B's tasks hears of it.
        await server.closed(closes + 2);
        expect(server.log.closes.slice(closes)).toEqual([
          { code: 1006, reason: '' },
          { code: 1006, reason: '' },
        ]);
        const died = (name: string): Event[] => [
          [name, 'error', 'socket host died: the shared worker died'],
          [name, 'close', 1006, 'abnormal closure'],
        ];
        await expect.poll(async () => (await events(b)).filter(([, event]) => event === 'close').length, WAIT).toBe(2);
        const seen = await events(b);
        expect(seen.filter(([name]) => name === 'shared')).toEqual([
          ['shared', 'open'],
          ['shared', 'message', 'before'],
          ...died('shared'),
        ]);
        expect(seen.filter(([name]) => name === 'own')).toEqual([['own', 'open'], ...died('own')]);
        expect(await send(b, 'shared', 'after')).toEqual([
          ['fail', 'SocketTask.send:fail SocketTask.readyState is not OPEN'],
        ]);

        // The instance goes on with a fresh host (in the new run) for its next task.
        const fresh = await b.evaluate(`(async () => {
        const fresh = track('fresh', qq.connectSocket({ url: ${JSON.stringify(`${server.url}/echo`)}, share: true }));
        await new Promise((resolve) => { fresh.onOpen(resolve); fresh.onClose(resolve); });
        fresh.send({ data: 'fresh host' });
        await new Promise((resolve) => { fresh.onMessage(resolve); fresh.onClose(resolve); });
        return events.filter(([name]) => name === 'fresh');
      })()`);
        expect(fresh).toEqual([
          ['fresh', 'open'],
          ['fresh', 'message', 'fresh host'],
        ]);
        expect(server.log.accepted - before).toBe(3);
      },
    );
  },
);
