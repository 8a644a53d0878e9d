// Builds every entry of the package into dist/. Types come from `tsc -p tsconfig.build.json`.
import { build } from 'esbuild';

/** Node packages stay external: users install them with the package. comlink is bundled (its ESM has no exports map). */
const external = ['ws', 'piscina', 'bufferutil', 'utf-8-validate'];
/** Browser builds: ES modules in dist/browser. */
const browser = {
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'esm',
  sourcemap: true,
  logLevel: 'warning',
  outdir: 'dist/browser',
};
/** Browsers' `/global` imports the facade beside it (`file`) rather than holding a second copy. */
const facadeBeside = (file) => ({
  name: 'facade-beside',
  setup: (b) => b.onResolve({ filter: /^\.\/browser\.js$/ }, () => ({ path: file, external: true })),
});
const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, external, logLevel: 'warning' };

await Promise.all([
  // The facade, as ESM and as CommonJS (Electron main processes are often CommonJS).
  build({ ...common, entryPoints: { index: 'src/index.ts', global: 'src/global.ts' }, format: 'esm', outdir: 'dist' }),
  build({
    ...common,
    entryPoints: { index: 'src/index.ts', global: 'src/global.ts' },
    format: 'cjs',
    outdir: 'dist',
    outExtension: { '.js': '.cjs' },
    // The facade finds its worker beside itself through import.meta.url, which CommonJS lacks.
    define: { 'import.meta.url': '__qqModuleUrl' },
    banner: { js: 'const __qqModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  }),
  // The worker-thread host: its own file, loaded by piscina.
  build({ ...common, entryPoints: { 'node-thread': 'src/worker/node-thread.ts' }, format: 'esm', outdir: 'dist' }),
  // Browsers: a self-contained ES module (no bare imports); the facade finds worker.js beside itself.
  build({ ...browser, entryPoints: { index: 'src/browser.ts' } }),
  // The worker scripts: plain strict scripts in one function scope, which run as a module worker
  // and as a classic one alike (a sandboxed page can only start the latter: browser-platform.ts).
  build({
    ...browser,
    entryPoints: { worker: 'src/worker/web-worker.ts', 'shared-worker': 'src/worker/shared-worker.ts' },
    format: 'iife',
  }),
  // Browsers' `/global`: imports the facade beside it rather than holding a second copy.
  build({ ...browser, entryPoints: { global: 'src/browser-global.ts' }, plugins: [facadeBeside('./index.js')] }),
  // The browser build as CommonJS, for what resolves `browser` with `require`: jest's jsdom
  // environment with its usual Babel transform (where `auto` runs inline), older bundlers. No
  // import.meta there: worker.js is looked for beside the script that loaded this one, else
  // relative to the page (workerUrl says where, as for any bundle that moves files).
  build({
    ...browser,
    entryPoints: { index: 'src/browser.ts' },
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    define: { 'import.meta.url': '__qqModuleUrl' },
    banner: {
      js: "var __qqModuleUrl = (typeof document === 'object' && document.currentScript && document.currentScript.src) || (typeof location === 'object' ? location.href : 'file:///');",
    },
  }),
  build({
    ...browser,
    entryPoints: { global: 'src/browser-global.ts' },
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    plugins: [facadeBeside('./index.cjs')],
  }),
]);
