import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const dist = (file: string) => fileURLToPath(new URL(`./dist/${file}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests use the package as users get it: the built files.
    alias: [
      { find: /^qq-socket-worker$/, replacement: dist('index.js') },
      { find: /^qq-socket-worker\/global$/, replacement: dist('global.js') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    // Worker threads inside vitest's own threads are fragile: run each file in a child process.
    pool: 'forks',
    // Type tests of the public API against the emitted declarations (dist/types, from `npm run build`).
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
