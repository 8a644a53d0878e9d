import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { CHROMIUM, CHROMIUM_ARGS } from './test/helpers/chromium-flags.mjs';
import { engineProvider } from './test/helpers/engine-provider.js';
import { engineMissing } from './test/helpers/engines.js';
import { peer } from './test/helpers/peer-commands.js';

const path = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const dist = (file: string) => path(`./dist/${file}`);

/**
 * Chromium trusts the test certificate (and no other) by the hash of its public key, as a user's
 * browser trusts a real one: the browser suite's `tls: true` peer.
 */
const spki = createHash('sha256')
  .update(
    new X509Certificate(readFileSync(path('./test/fixtures/cert.pem'))).publicKey.export({
      type: 'spki',
      format: 'der',
    }),
  )
  .digest('base64');

/** The browser build, as the `browser` export condition gives it, for every engine's project. */
const browserBuild = {
  resolve: {
    alias: [{ find: /^qq-socket-worker$/, replacement: dist('browser/index.js') }],
  },
  plugins: [
    {
      // Vitest's browser mode rewrites every dynamic import of a module it serves into a call
      // to its page's runner, which a worker of ours (started from a URL, not as a Vite
      // worker) does not have: the pipeline's import() in worker.js and shared-worker.js
      // then fails. Vitest gives the workers Vite starts this same stub.
      name: 'qq:worker-runner-stub',
      transform(code: string, id: string) {
        if (!/\/dist\/browser\/(shared-)?worker\.js(\?|$)/.test(id)) return undefined;
        return `globalThis.__vitest_browser_runner__ ??= { wrapDynamicImport: (f) => f() };\n${code}`;
      },
    },
  ],
};

/**
 * The suites that run in vitest's browser mode: all of them in Chromium (vitest's Playwright
 * provider); the conformance suite (`worker`, `shared`, `inline`) and its pipelines in Firefox
 * and WebKit too, through engines.ts (engine-provider.ts). An engine this machine lacks is left out, saying so.
 */
const CONFORMANCE = [
  'test/worker.browser.test.ts',
  'test/shared.browser.test.ts',
  'test/inline.browser.test.ts',
  'test/leader.browser.test.ts',
  'test/pipeline.browser.test.ts',
];
const otherEngines = (['firefox', 'webkit'] as const).filter((engine) => {
  const missing = engineMissing(engine);
  if (missing) console.warn(`${missing}: its browser suite is skipped`);
  return missing === undefined;
});
const browserProjects: TestProjectInlineConfiguration[] = [
  {
    extends: true,
    ...browserBuild,
    test: {
      name: 'chromium',
      include: ['test/**/*.browser.test.ts'],
      browser: {
        enabled: true,
        headless: true,
        provider: playwright({
          launchOptions: {
            executablePath: CHROMIUM,
            args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${spki}`],
          },
        }),
        instances: [{ browser: 'chromium' }],
        commands: { peer },
        screenshotFailures: false,
      },
    },
  },
  ...otherEngines.map(
    (engine): TestProjectInlineConfiguration => ({
      extends: true,
      ...browserBuild,
      test: {
        name: engine,
        include: CONFORMANCE,
        browser: {
          enabled: true,
          headless: true,
          provider: engineProvider(engine),
          instances: [{ browser: engine }],
          commands: { peer },
          screenshotFailures: false,
        },
      },
    }),
  ),
];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    // Bounds for a hang, not for a condition: a test waits for what it checks (a poll or
    // waitFor with WAIT, test/helpers/record.ts), and a slow or loaded machine only takes longer.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    expect: { poll: { timeout: 45_000 } },
    projects: [
      {
        extends: true,
        resolve: {
          // Tests use the package as users get it: the built files.
          alias: [
            { find: /^qq-socket-worker$/, replacement: dist('index.js') },
            { find: /^qq-socket-worker\/global$/, replacement: dist('global.js') },
          ],
        },
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          // The Node LTS pass (scripts/test-node-lts.sh) leaves out the files that drive browsers
          // themselves: they test the browsers, not Node, and the first pass runs them.
          exclude: ['test/**/*.browser.test.ts', ...(process.env.QQ_NODE_ONLY ? ['test/browser/**'] : [])],
          // Worker threads inside vitest's own threads are fragile: run each file in a child process.
          pool: 'forks',
          // Type tests of the public API against the emitted declarations (dist/types, from `npm run build`).
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
      ...browserProjects,
    ],
  },
});
