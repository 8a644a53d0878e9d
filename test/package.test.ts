/**
 * The package as npm publishes it: `npm pack`'s tarball, unpacked into a project of its own
 * beside only the dependencies its package.json declares (linked from this checkout's
 * node_modules, so no registry is needed), then used as users do: imported and required on Node,
 * type-checked by tsc as Node and browser projects, and built by Vite and by webpack for a page
 * in Chromium. The other tests use dist/ in place; this one finds what `files`, `exports` and
 * `dependencies` leave out.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { build as viteBuild } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import webpack, { type Stats } from 'webpack';
import { launchChromium } from './helpers/chromium.js';
import { startWsServer, type TestServer } from './helpers/servers.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const modules = join(root, 'node_modules');

let dir: string;
let project: string;
let packed: { files: string[]; manifest: Record<string, unknown> };
let server: TestServer;

/** Links `name` from this checkout's node_modules into the project's. */
const link = async (name: string) => {
  await mkdir(join(project, 'node_modules', name, '..'), { recursive: true });
  await symlink(join(modules, name), join(project, 'node_modules', name), 'dir');
};

beforeAll(async () => {
  server = await startWsServer();
  dir = await mkdtemp(join(tmpdir(), 'qq-packed-'));
  project = join(dir, 'app');
  const unpacked = join(project, 'node_modules', 'qq-socket-worker');
  await mkdir(unpacked, { recursive: true });
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: root });
  const [{ filename, files }] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
  await run('tar', ['-xzf', join(dir, filename), '-C', unpacked, '--strip-components=1']);
  const manifest = JSON.parse(await readFile(join(unpacked, 'package.json'), 'utf8')) as Record<string, unknown>;
  packed = { files: files.map((f) => f.path), manifest };
  // What npm would install beside it: the declared dependencies (optional ones where they are here).
  const declared = { ...(manifest.dependencies as object), ...(manifest.optionalDependencies as object) };
  const present = new Set(await readdir(modules));
  for (const name of Object.keys(declared)) if (present.has(name.split('/')[0] as string)) await link(name);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
}, 60_000);
afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs a script of the app's with Node, in the app's directory. */
const node = async (file: string, source: string) => {
  await writeFile(join(project, file), source);
  const { stdout } = await run(process.execPath, [file, `${server.url}/echo`], { cwd: project, timeout: 50_000 });
  return stdout.trim().split('\n');
};

/** An echo through `backend` that prints what came back, for the app's scripts. */
const echo = (backend: string) => `
  await new Promise((resolve, reject) => {
    const qq = createQQ({ backend: '${backend}' });
    const task = qq.connectSocket({ url: process.argv[2] });
    task.onOpen(() => task.send({ data: '${backend}' }));
    task.onMessage(({ data }) => { console.log('echo', data); task.close({ code: 1000 }); });
    task.onError(({ errMsg }) => reject(new Error(errMsg)));
    task.onClose(() => qq.destroy().then(resolve));
  });`;

describe('the packed package', () => {
  it('holds the build, the README and package.json, nothing else', () => {
    const top = [...new Set(packed.files.map((path) => path.split('/')[0]))].sort();
    expect(top).toEqual(['README.md', 'dist', 'package.json']);
  });

  it('runs on Node from the install: import, require and /global, on both backends', async () => {
    expect(
      await node('esm.mjs', `import { createQQ } from 'qq-socket-worker';\n${echo('thread')}\n${echo('inline')}`),
    ).toEqual(['echo thread', 'echo inline']);
    expect(
      await node(
        'cjs.cjs',
        `const { createQQ } = require('qq-socket-worker');\n(async () => {${echo('thread')}\n${echo('inline')}\n})();`,
      ),
    ).toEqual(['echo thread', 'echo inline']);
    expect(
      await node(
        'global.mjs',
        `import 'qq-socket-worker/global';
        await new Promise((resolve) => {
          qq.onSocketMessage(({ data }) => { console.log('echo', data); qq.closeSocket({ code: 1000 }); });
          qq.onSocketOpen(() => qq.sendSocketMessage({ data: 'global' }));
          qq.onSocketClose(resolve);
          qq.connectSocket({ url: process.argv[2] });
        });
        process.exit(0);`,
      ),
    ).toEqual(['echo global']);
  });

  it('type-checks against its declarations: Node projects (node16 ESM and CommonJS, node10) and browser ones', async () => {
    const files: Record<string, string> = {
      // No types of Node's: the declarations need none (nor ws's, which the package does not declare).
      'tsconfig.json': JSON.stringify({
        compilerOptions: { module: 'node16', moduleResolution: 'node16', strict: true, noEmit: true, types: [] },
        files: ['cjs.cts', 'esm.mts'],
      }),
      // The same files for browsers: the `browser` condition's types, ESM and CommonJS.
      'tsconfig.browser.json': JSON.stringify({
        extends: './tsconfig.json',
        compilerOptions: { customConditions: ['browser'], traceResolution: true },
      }),
      // A CommonJS project on TypeScript's old resolution (node10, which knows no `exports`):
      // the root's `types`, and `typesVersions` for /global.
      'tsconfig.node10.json': JSON.stringify({
        compilerOptions: { module: 'commonjs', moduleResolution: 'node10', strict: true, noEmit: true, types: [] },
        files: ['old.ts'],
      }),
      // A browser project as bundlers set one up.
      'tsconfig.bundler.json': JSON.stringify({
        compilerOptions: {
          module: 'esnext',
          moduleResolution: 'bundler',
          lib: ['es2022', 'dom'],
          strict: true,
          noEmit: true,
          types: [],
        },
        files: ['page.ts'],
      }),
      // Each file also holds a deliberate type error: declarations that said `any` would fail.
      'cjs.cts': `
        import { createQQ, type SocketTask } from 'qq-socket-worker';
        import 'qq-socket-worker/global';
        const task: SocketTask = createQQ({ backend: 'thread' }).connectSocket({ url: 'ws://127.0.0.1:1/' });
        task.onClose(({ code }: { code: number }) => code);
        qq.sendSocketMessage({ data: new ArrayBuffer(1), success: ({ errMsg }) => errMsg });
        // @ts-expect-error url must be a string
        createQQ().connectSocket({ url: 42 });
      `,
      'esm.mts': `
        import { createQQ } from 'qq-socket-worker';
        const task = createQQ({ proxy: 'http://127.0.0.1:3128' }).connectSocket({ url: 'ws://127.0.0.1:1/' });
        task.onMessage(({ data }) => { const text: string | ArrayBuffer = data; void text; });
        // @ts-expect-error readyState is read-only
        task.readyState = 1;
      `,
      'old.ts': `
        import { createQQ } from 'qq-socket-worker';
        import 'qq-socket-worker/global';
        createQQ({ backend: 'thread' }).connectSocket({ url: 'ws://127.0.0.1:1/' });
        qq.closeSocket({ code: 1000 });
        // @ts-expect-error url must be a string
        qq.connectSocket({ url: 42 });
      `,
      'page.ts': `
        import { createQQ } from 'qq-socket-worker';
        createQQ({ backend: 'shared' }).connectSocket({ url: 'wss://127.0.0.1:1/', share: true }).onMessage(({ data }) => data);
        // @ts-expect-error heartbeat is a number
        createQQ({ heartbeat: '1000' });
      `,
    };
    for (const [name, text] of Object.entries(files)) await writeFile(join(project, name), text);
    const tsc = join(modules, 'typescript', 'bin', 'tsc');
    const check = (config: string) =>
      run(process.execPath, [tsc, '-p', join(project, config)]).then(
        ({ stdout }) => ({ ok: true, stdout }),
        (error: { stdout?: string }) => ({ ok: false, stdout: error.stdout ?? String(error) }),
      );
    expect(await check('tsconfig.json')).toMatchObject({ ok: true });
    expect(await check('tsconfig.bundler.json')).toMatchObject({ ok: true });
    expect(await check('tsconfig.node10.json')).toMatchObject({ ok: true });
    const browser = await check('tsconfig.browser.json');
    expect(browser).toMatchObject({ ok: true });
    // Under the browser condition, for both module kinds: qq-socket-worker (.cts and .mts)
    // and qq-socket-worker/global (.cts), each to the declarations of its kind.
    expect(browser.stdout.match(/Resolved under condition 'browser'\./g)).toHaveLength(3);
    const resolved = [...browser.stdout.matchAll(/'qq-socket-worker' was successfully resolved to '([^']+)'/g)];
    const unpacked = join(project, 'node_modules', 'qq-socket-worker');
    expect(new Set(resolved.map(([, file]) => relative(unpacked, file as string)))).toEqual(
      new Set(['dist/types/index.d.ts', 'dist/types-cjs/index.d.ts']),
    );
  });

  describe('built for a page by Vite and by webpack', () => {
    let browser: Browser;
    let web: http.Server;
    let origin: string;
    const page = () => join(project, 'page');
    const out = (bundler: string) => join(dir, `built-${bundler}`);

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

    beforeAll(async () => {
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
      browser = await launchChromium();
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await new Promise((resolve) => web?.close(resolve));
    });

    it.each(Object.keys(bundlers))(
      '%s emits both worker scripts, which the page finds: worker and shared echo',
      async (bundler) => {
        await bundlers[bundler]?.();
        // The page's script and the two worker scripts, whatever the bundler named them.
        const scripts = (await readdir(out(bundler), { recursive: true })).filter((name) => name.endsWith('.js'));
        expect(scripts).toHaveLength(3);
        const tab = await browser.newPage();
        await tab.goto(`${origin}/${bundler}/`);
        for (const backend of ['worker', 'shared']) {
          const log = await tab.evaluate(
            ([b, url]) =>
              (window as never as { echo: (b: string, u: string) => Promise<string[]> }).echo(
                b as string,
                url as string,
              ),
            [backend, `${server.url}/echo`],
          );
          expect(log).toEqual([`echo ${backend}`, 'close 1000']);
        }
        await tab.close();
      },
      60_000,
    );
  });
});
