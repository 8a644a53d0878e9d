/**
 * The package as npm publishes it (helpers/packed.ts: `npm pack`'s tarball in a project of its
 * own), used as users do: imported and required on Node, and type-checked by tsc as Node and
 * browser projects. test/browser/bundlers.test.ts builds pages from it with Vite and webpack and
 * loads them in each engine. The other tests use dist/ in place; these find what `files`,
 * `exports` and `dependencies` leave out.
 */
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modules, type PackedProject, packProject, run } from './helpers/packed.js';
import { startWsServer, type TestServer } from './helpers/servers.js';

let app: PackedProject;
let project: string;
let packed: PackedProject['packed'];
let server: TestServer;

beforeAll(async () => {
  [server, app] = await Promise.all([startWsServer(), packProject()]);
  ({ project, packed } = app);
}, 60_000);
afterAll(async () => {
  await Promise.all([server?.close(), app?.remove()]);
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
});
