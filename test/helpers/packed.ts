/**
 * The package as npm publishes it: `npm pack`'s tarball, unpacked into a project of its own
 * beside only the dependencies its package.json declares (linked from this checkout's
 * node_modules, so no registry is needed). test/package.test.ts uses it on Node and with tsc,
 * test/browser/bundlers.test.ts builds pages from it.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
/** This checkout's node_modules. */
export const modules = join(root, 'node_modules');

export interface PackedProject {
  /** The temporary directory: the tarball, the project, whatever a test builds beside them. */
  dir: string;
  /** The project (`app`), with the package in its node_modules. */
  project: string;
  /** What the tarball holds, and its package.json. */
  packed: { files: string[]; manifest: Record<string, unknown> };
  /** Removes `dir`. */
  remove(): Promise<void>;
}

export async function packProject(): Promise<PackedProject> {
  const dir = await mkdtemp(join(tmpdir(), 'qq-packed-'));
  const project = join(dir, 'app');
  const unpacked = join(project, 'node_modules', 'qq-socket-worker');
  await mkdir(unpacked, { recursive: true });
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: root });
  const [{ filename, files }] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
  await run('tar', ['-xzf', join(dir, filename), '-C', unpacked, '--strip-components=1']);
  const manifest = JSON.parse(await readFile(join(unpacked, 'package.json'), 'utf8')) as Record<string, unknown>;
  // What npm would install beside it: the declared dependencies (optional ones where they are here).
  const declared = { ...(manifest.dependencies as object), ...(manifest.optionalDependencies as object) };
  const present = new Set(await readdir(modules));
  for (const name of Object.keys(declared)) {
    if (!present.has(name.split('/')[0] as string)) continue;
    await mkdir(join(project, 'node_modules', name, '..'), { recursive: true });
    await symlink(join(modules, name), join(project, 'node_modules', name), 'dir');
  }
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  return {
    dir,
    project,
    packed: { files: files.map((f) => f.path), manifest },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
