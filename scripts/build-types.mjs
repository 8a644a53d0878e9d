// The declarations: tsc into a fresh dist/types (no file of a removed module left behind), then
// the same files for CommonJS consumers in dist/types-cjs, whose package.json says "commonjs".
// TypeScript (node16/nodenext) takes a declaration's module format from the nearest
// package.json; read from dist/types under `require`, the ESM ones (this package is
// "type": "module") fail with TS1479 ("the referenced file is an ECMAScript module").
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/', import.meta.url);
const types = new URL('types/', dist);
const cjs = new URL('types-cjs/', dist);
for (const dir of [types, cjs]) rmSync(dir, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', fileURLToPath(new URL('../tsconfig.build.json', import.meta.url))], {
  stdio: 'inherit',
});
cpSync(types, cjs, { recursive: true });
writeFileSync(new URL('package.json', cjs), `${JSON.stringify({ type: 'commonjs' })}\n`);
