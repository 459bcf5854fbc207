// Builds kube-apiserver and etcd from the Go module proxy, cached by version and by what decides the build.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TestenvError } from './errors.ts';
import { cacheDir, goModulesDir } from './paths.ts';
import { ETCD_VERSION, KUBERNETES_VERSION } from './versions.ts';

/** Absolute paths of the two control-plane binaries. */
export interface Binaries {
  readonly kubeApiserver: string;
  readonly etcd: string;
}

/** One step of {@link ensureBinaries}: a cache hit, a build starting, progress, or a finished build. */
export type BuildProgress =
  | { readonly component: Component; readonly phase: 'cached'; readonly path: string }
  | { readonly component: Component; readonly phase: 'start'; readonly total: number }
  | { readonly component: Component; readonly phase: 'progress'; readonly compiled: number; readonly total: number }
  | { readonly component: Component; readonly phase: 'done'; readonly path: string; readonly seconds: number };

/** The components built from the Go module proxy. */
export type Component = 'kube-apiserver' | 'etcd';

/** Options of {@link ensureBinaries}. */
export interface EnsureBinariesOptions {
  /** Called on every build step. Default: none (silent). */
  readonly onProgress?: (progress: BuildProgress) => void;
  /** Cancels a running build. Default: none. */
  readonly signal?: AbortSignal;
}

interface Target {
  readonly component: Component;
  readonly version: string;
  readonly moduleDir: string;
  readonly pkg: string;
  readonly ldflags: string;
  readonly envOverride: string;
}

function targets(): Target[] {
  const minor = KUBERNETES_VERSION.split('.')[1] ?? '';
  const versionPkg = 'k8s.io/component-base/version';
  return [
    {
      component: 'etcd',
      version: ETCD_VERSION,
      moduleDir: join(goModulesDir(), 'etcd'),
      pkg: '.',
      ldflags: '-s -w',
      envOverride: 'KWATCH_ETCD',
    },
    {
      component: 'kube-apiserver',
      version: KUBERNETES_VERSION,
      moduleDir: join(goModulesDir(), 'apiserver'),
      pkg: 'k8s.io/kubernetes/cmd/kube-apiserver',
      ldflags: [
        '-s -w',
        `-X ${versionPkg}.gitVersion=${KUBERNETES_VERSION}`,
        `-X ${versionPkg}.gitMajor=1`,
        `-X ${versionPkg}.gitMinor=${minor}`,
        `-X ${versionPkg}.gitTreeState=clean`,
      ].join(' '),
      envOverride: 'KWATCH_KUBE_APISERVER',
    },
  ];
}

/** The cache path of a target: its version plus a hash of everything that decides the build. */
function binaryPath(t: Target): string {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) {
    const path = join(t.moduleDir, file);
    if (existsSync(path)) hash.update(readFileSync(path));
  }
  hash.update(t.pkg).update(t.ldflags);
  return join(cacheDir(), 'bin', `${t.component}-${t.version}-${hash.digest('hex').slice(0, 12)}`);
}

/**
 * Returns the kube-apiserver and etcd binaries, building them from the Go module proxy
 * into the cache directory when the pinned version is not there yet (minutes on a cold
 * machine; a cache hit costs nothing). `KWATCH_KUBE_APISERVER` and `KWATCH_ETCD` point
 * at binaries of your own instead.
 *
 * @example
 * ```ts
 * const { kubeApiserver, etcd } = await ensureBinaries({
 *   onProgress: (p) => console.error(p.component, p.phase),
 * });
 * ```
 */
export async function ensureBinaries(options: EnsureBinariesOptions = {}): Promise<Binaries> {
  const paths: Partial<Record<Component, string>> = {};
  for (const t of targets()) {
    const override = process.env[t.envOverride];
    if (override) {
      if (!existsSync(override)) {
        throw new TestenvError('BINARY_MISSING', `${t.envOverride} points at ${override}, which does not exist`);
      }
      paths[t.component] = override;
      continue;
    }
    const path = binaryPath(t);
    if (existsSync(path)) {
      options.onProgress?.({ component: t.component, phase: 'cached', path });
    } else {
      await build(t, path, options);
    }
    paths[t.component] = path;
  }
  return { kubeApiserver: paths['kube-apiserver'] as string, etcd: paths.etcd as string };
}

async function build(t: Target, path: string, options: EnsureBinariesOptions): Promise<void> {
  const started = Date.now();
  const env = { ...process.env, CGO_ENABLED: '0' };
  const total = (await runGo(t, ['list', '-deps', t.pkg], env, options.signal)).length;
  options.onProgress?.({ component: t.component, phase: 'start', total });
  mkdirSync(join(cacheDir(), 'bin'), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  let compiled = 0;
  let lastStep = 0;
  try {
    await runGo(t, ['build', '-v', '-trimpath', '-ldflags', t.ldflags, '-o', tmp, t.pkg], env, options.signal, () => {
      compiled += 1;
      // `go build -v` names each package it compiles; report every 5 % so logs stay short.
      const step = Math.floor((compiled * 20) / Math.max(total, 1));
      if (step > lastStep) {
        lastStep = step;
        options.onProgress?.({ component: t.component, phase: 'progress', compiled, total });
      }
    });
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
  options.onProgress?.({ component: t.component, phase: 'done', path, seconds: (Date.now() - started) / 1000 });
}

/** Runs `go` in the target's module; resolves with stdout lines, reports stderr lines (`-v` names each package). */
function runGo(
  t: Target,
  args: string[],
  env: NodeJS.ProcessEnv,
  signal: AbortSignal | undefined,
  onStderrLine?: (line: string) => void,
): Promise<string[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('go', args, { cwd: t.moduleDir, env, stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
    const out: string[] = [];
    const errTail: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => out.push(line));
    createInterface({ input: child.stderr }).on('line', (line) => {
      errTail.push(line);
      if (errTail.length > 40) errTail.shift();
      onStderrLine?.(line);
    });
    child.on('error', (err) => {
      const hint = (err as NodeJS.ErrnoException).code === 'ENOENT' ? ' (is Go >= 1.26 installed and on PATH?)' : '';
      reject(new TestenvError('BUILD_FAILED', `cannot run go for ${t.component}${hint}`, { cause: err }));
    });
    child.on('close', (code) => {
      if (code === 0) resolvePromise(out);
      else
        reject(
          new TestenvError(
            'BUILD_FAILED',
            `go ${args[0]} for ${t.component} ${t.version} exited with ${code}:\n${errTail.join('\n')}`,
          ),
        );
    });
  });
}

/** One line of text for a build step, as `testenv` and the demo print it. */
export function describeBuildProgress(p: BuildProgress): string {
  switch (p.phase) {
    case 'cached':
      return `${p.component}: using cached ${p.path}`;
    case 'start':
      return `${p.component}: building from the Go module proxy (${p.total} packages; minutes on a cold machine)`;
    case 'progress':
      return `${p.component}: compiled ${p.compiled} of at most ${p.total} packages`;
    case 'done':
      return `${p.component}: built in ${p.seconds.toFixed(0)} s -> ${p.path}`;
  }
}
