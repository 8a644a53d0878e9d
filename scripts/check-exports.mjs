// Fails the build when a path named by package.json (exports, main, module, types, typesVersions) does not exist.
import { existsSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const paths = [pkg.main, pkg.module, pkg.types];
const walk = (value) => {
  if (typeof value === 'string') paths.push(value);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) walk(v);
};
walk(pkg.exports);
walk(pkg.typesVersions);
const missing = paths.filter((p) => !existsSync(new URL(`../${p}`, import.meta.url)));
if (missing.length > 0) {
  console.error(`check-exports: missing after build: ${missing.join(', ')}`);
  process.exit(1);
}
console.log(`check-exports: ${paths.length} paths present`);
