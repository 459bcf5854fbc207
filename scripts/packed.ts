// The packages as a user installs them, shared by `pnpm test:packed` (scripts/packedConsumer.ts) and the footprint
// benchmark (bench/footprint.ts): `pnpm pack` every package, then `npm install` the tarballs into a scratch project
// outside the workspace (no workspace links, no source condition), with the tarballs satisfying each other's exact
// versions, never the registry's copies.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = join(import.meta.dirname, '..');
export const PACKAGES = ['watch-core', 'models', 'toolkit', 'cli', 'testenv'] as const;

/** Runs `cmd` and returns its stdout; on failure throws with the command, its directory, stdout and stderr. */
export async function sh(cmd: string, argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout } = await run(cmd, argv, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${argv.join(' ')} (in ${cwd}) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** The version of `pkg` installed in the workspace root (to pin the scratch project's third-party packages alike). */
export function workspaceVersion(pkg: string): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

export interface PackedInstall {
  /** A fresh directory outside the workspace: the tarballs go to `<scratch>/tarballs`, the project to `<scratch>/<name>`. */
  scratch: string;
  /** The scratch project's directory name and package name. */
  name: string;
  /** Build every package first (`pnpm -r --filter ./packages/* run build`). */
  build?: boolean;
  /** Further dependencies and devDependencies of the scratch project (name → version). */
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  say?: (m: string) => void;
}

/**
 * Packs every package and `npm install`s the tarballs (with `dependencies`/`devDependencies`) into a new project,
 * checking that each installed package has its LICENSE and dist/. Returns the project's directory.
 */
export async function installPacked(o: PackedInstall): Promise<string> {
  const say = o.say ?? (() => {});
  const tarballs = join(o.scratch, 'tarballs');
  const project = join(o.scratch, o.name);
  mkdirSync(tarballs, { recursive: true });
  mkdirSync(project, { recursive: true });
  if (o.build) {
    say('building every package');
    await sh('pnpm', ['-r', '--filter', './packages/*', 'run', 'build'], ROOT);
  }
  for (const p of PACKAGES) await sh('pnpm', ['pack', '--pack-destination', tarballs], join(ROOT, 'packages', p));
  const packed = readdirSync(tarballs);
  say(`packed ${packed.join(', ')}`);
  const deps: Record<string, string> = {};
  for (const p of PACKAGES) {
    const file = packed.find((f) => f.startsWith(`kwatch-${p}-`));
    if (!file) throw new Error(`no tarball for @kwatch/${p}`);
    deps[`@kwatch/${p}`] = `file:${join(tarballs, file)}`;
  }
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify(
      {
        name: o.name,
        private: true,
        type: 'module',
        dependencies: { ...deps, ...o.dependencies },
        devDependencies: { ...o.devDependencies },
        // The tarballs satisfy each other's exact versions; never the registry's copies.
        overrides: Object.fromEntries(Object.keys(deps).map((d) => [d, `$${d}`])),
      },
      null,
      2,
    ),
  );
  say('npm install of the tarballs into a project outside the workspace');
  await sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], project);
  for (const p of PACKAGES) {
    const installed = join(project, 'node_modules', '@kwatch', p);
    if (!existsSync(join(installed, 'LICENSE')) || !existsSync(join(installed, 'dist'))) {
      throw new Error(`@kwatch/${p} was installed without its LICENSE or dist/`);
    }
  }
  return project;
}
