/**
 * A page built from the package as npm publishes it (helpers/packed.ts) by Vite and by webpack,
 * loaded in each engine: both bundlers emit the two worker scripts, and the page finds them
 * (`worker` and `shared` echo). Here rather than in test/package.test.ts so that it runs once,
 * not again in the Node LTS pass (which leaves test/browser/ out).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import { extname, join, normalize } from 'node:path';
import { build as viteBuild } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import webpack, { type Stats } from 'webpack';
import { type PackedProject, packProject } from '../helpers/packed.js';
import { describeEngines } from '../helpers/page-suite.js';
import { startWsServer, type TestServer } from '../helpers/servers.js';

let app: PackedProject;
let server: TestServer;
let web: http.Server;
let origin: string;
const page = () => join(app.project, 'page');
const out = (bundler: string) => join(app.dir, `built-${bundler}`);

/** Each bundler's build of the page, into out(bundler) with an index.html that loads it. */
const bundlers: Record<string, () => Promise<void>> = {
  vite: async () => {
    // Relative URLs: the page is served under /vite/.
    await viteBuild({
      root: page(),
      base: './',
      logLevel: 'silent',
      configFile: false,
      build: { outDir: out('vite') },
    });
  },
  webpack: async () => {
    const config = {
      mode: 'production' as const,
      context: page(),
      entry: './main.js',
      output: { path: out('webpack'), filename: 'main.js' },
      target: 'web',
    };
    const stats = await new Promise<Stats | undefined>((resolve, reject) =>
      webpack(config, (error, result) => (error ? reject(error) : resolve(result))),
    );
    expect(stats?.toJson({ all: false, errors: true }).errors).toEqual([]);
    await writeFile(join(out('webpack'), 'index.html'), '<!doctype html><script src="./main.js"></script>');
  },
};
const names = Object.keys(bundlers);

beforeAll(async () => {
  [server, app] = await Promise.all([startWsServer(), packProject()]);
  await mkdir(page(), { recursive: true });
  await writeFile(join(page(), 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
  await writeFile(
    join(page(), 'main.js'),
    `import { createQQ } from 'qq-socket-worker';
    window.echo = (backend, url) => new Promise((resolve) => {
      const log = [];
      const qq = createQQ({ backend });
      const task = qq.connectSocket({ url });
      task.onOpen(() => task.send({ data: backend }));
      task.onMessage(({ data }) => { log.push('echo ' + data); task.close({ code: 1000 }); });
      task.onError(({ errMsg }) => log.push(errMsg));
      task.onClose(({ code }) => { log.push('close ' + code); qq.destroy().then(() => resolve(log)); });
    });`,
  );
  // Serves /<bundler>/… from that bundler's output.
  web = http.createServer(async (req, res) => {
    const [, bundler, ...rest] = normalize(new URL(req.url ?? '/', 'http://x').pathname).split('/');
    const path = rest.join('/') || 'index.html';
    try {
      const body = await readFile(join(out(bundler as string), path));
      res.writeHead(200, { 'content-type': extname(path) === '.js' ? 'text/javascript' : 'text/html' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(web.address() as net.AddressInfo).port}`;
  for (const bundler of names) await bundlers[bundler]?.();
}, 120_000);
afterAll(async () => {
  await new Promise((resolve) => web?.close(resolve));
  await Promise.all([server?.close(), app?.remove()]);
});

it.each(names)('%s emits both worker scripts beside the page script', async (bundler) => {
  // The page's script and the two worker scripts, whatever the bundler named them.
  const scripts = (await readdir(out(bundler), { recursive: true })).filter((name) => name.endsWith('.js'));
  expect(scripts).toHaveLength(3);
});

describeEngines('a page built by Vite and by webpack', (pages) => {
  const tab = () => pages.first;
  it.each(names)("%s's page finds both worker scripts: worker and shared echo", async (bundler) => {
    await tab().goto(`${origin}/${bundler}/`);
    for (const backend of ['worker', 'shared']) {
      const log = await tab().evaluate(
        `window.echo(${JSON.stringify(backend)}, ${JSON.stringify(`${server.url}/echo`)})`,
      );
      expect(log).toEqual([`echo ${backend}`, 'close 1000']);
    }
  });
});
