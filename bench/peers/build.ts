/**
 * Builds the sync benchmark's peers from their registries, each into the kwatch cache
 * (`<cacheDir>/peers`), and rebuilds only when a peer's sources change:
 *   - client-go: `go build` of bench/peers/client-go (k8s.io/client-go from the Go module proxy)
 *   - controller-runtime: `go build` of bench/peers/controller-runtime (the reconcile benchmark's Go peer)
 *   - kube-rs:   `cargo build --release` of bench/peers/kube-rs (kube and k8s-openapi from crates.io): the sync peer
 *                and the reconcile benchmark's Controller peer (binary kwatch-bench-kube-rs-reconcile)
 *   - python:    a venv with bench/peers/python/requirements.txt (kubernetes from PyPI)
 * The Node peers (kwatch, client-node) need no build.
 *   node bench/peers/build.ts [peer ...]   (default: all)
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir } from '@kwatch/testenv';

const run = promisify(execFile);
const here = import.meta.dirname;

export type BuiltPeer = 'client-go' | 'controller-runtime' | 'kube-rs' | 'python';

/**
 * A Node peer (bench/peers/node/<file>) as users run their programs: its types stripped once into
 * bench/peers/node/dist/ (plain JavaScript, no TypeScript stripping in the measured process), with @kwatch/* resolved to
 * the built packages (no source condition). `needs`: the package whose build it runs (it must be built first).
 */
export function nodePeer(file: string, needs: 'watch-core' | 'controller' = 'watch-core'): [string, string[]] {
  const dir = join(here, 'node');
  const out = join(dir, 'dist');
  mkdirSync(out, { recursive: true });
  for (const name of [file, 'protocol.ts']) {
    const js = stripTypeScriptTypes(readFileSync(join(dir, name), 'utf8')).replace(/from '\.\/(\w+)\.ts'/g, "from './$1.js'");
    writeFileSync(join(out, name.replace(/\.ts$/, '.js')), js);
  }
  if (!existsSync(join(here, '..', '..', 'packages', needs, 'dist', 'index.js'))) {
    throw new Error("the Node peers run the built packages: run pnpm -r --filter './packages/*' run build first");
  }
  return [process.execPath, [join(out, file.replace(/\.ts$/, '.js'))]];
}

/**
 * The command that runs a built peer: [executable, leading args]. `scenario` 'reconcile' picks kube-rs's Controller
 * binary; the other peers have one program each.
 */
export function peerCommand(peer: BuiltPeer, scenario: 'sync' | 'reconcile' = 'sync'): [string, string[]] {
  const dir = join(cacheDir(), 'peers');
  if (peer === 'client-go') return [join(dir, 'client-go-peer'), []];
  if (peer === 'controller-runtime') return [join(dir, 'controller-runtime-peer'), []];
  if (peer === 'kube-rs') {
    const bin = scenario === 'reconcile' ? 'kwatch-bench-kube-rs-reconcile' : 'kwatch-bench-kube-rs';
    return [join(dir, 'kube-rs-target', 'release', bin), []];
  }
  return [join(dir, 'python-venv', 'bin', 'python'), [join(here, 'python', 'peer.py')]];
}

function sourceHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (name === 'target' || name === '__pycache__') continue;
      if (statSync(p).isDirectory()) walk(p);
      else h.update(relative(dir, p)).update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex').slice(0, 16);
}

/** Builds `peer` unless the cached build matches its sources; logs what it does to stderr. */
export async function buildPeer(peer: BuiltPeer): Promise<void> {
  const dir = join(cacheDir(), 'peers');
  mkdirSync(dir, { recursive: true });
  const src = join(here, peer);
  const stamp = join(dir, `${peer}.stamp`);
  const hash = sourceHash(src);
  const built = [peerCommand(peer, 'sync')[0], peerCommand(peer, 'reconcile')[0]];
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash && built.every((p) => existsSync(p))) return;
  const t0 = performance.now();
  console.error(`bench: building the ${peer} peer (once; cached in ${dir})`);
  const opts = { cwd: src, maxBuffer: 64 * 2 ** 20 };
  if (peer === 'client-go' || peer === 'controller-runtime') {
    await run('go', ['build', '-o', join(dir, `${peer}-peer`), '.'], opts);
  } else if (peer === 'kube-rs') {
    await run('cargo', ['build', '--release', '--locked'], {
      ...opts,
      env: { ...process.env, CARGO_TARGET_DIR: join(dir, 'kube-rs-target') },
    });
  } else {
    const venv = join(dir, 'python-venv');
    await run('python3', ['-m', 'venv', venv], opts);
    await run(join(venv, 'bin', 'pip'), ['install', '-q', '-r', join(src, 'requirements.txt')], opts);
  }
  writeFileSync(stamp, hash);
  console.error(`bench: built the ${peer} peer in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

if (import.meta.main) {
  const chosen = process.argv.slice(2) as BuiltPeer[];
  for (const peer of chosen.length > 0 ? chosen : (['client-go', 'controller-runtime', 'kube-rs', 'python'] as const))
    await buildPeer(peer);
}
