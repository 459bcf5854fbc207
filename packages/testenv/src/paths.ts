// Where testenv keeps things: the cache of binaries and state, and the wrapper Go modules it ships.
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where built binaries and the `testenv up` state live.
 * `KWATCH_CACHE_DIR` overrides it; otherwise `$XDG_CACHE_HOME/kwatch` or `~/.cache/kwatch`.
 *
 * @example
 * ```ts
 * const bin = join(cacheDir(), 'bin');
 * ```
 */
export function cacheDir(): string {
  const fromEnv = process.env.KWATCH_CACHE_DIR;
  if (fromEnv) return resolve(fromEnv);
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg ? resolve(xdg) : join(homedir(), '.cache'), 'kwatch');
}

/** The wrapper Go modules shipped with this package (`go/apiserver`, `go/etcd`). */
export function goModulesDir(): string {
  // src/paths.ts and dist/paths.js both sit one level below the package root.
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'go');
}
