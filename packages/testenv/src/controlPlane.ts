// ControlPlane: a real kube-apiserver and etcd on loopback, started, restarted, reattached and stopped.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { describeBuildProgress, ensureBinaries } from './build.ts';
import { generatePki } from './certs.ts';
import { TestenvError } from './errors.ts';
import { simpleRequest, type TlsIdentity } from './http.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { freePort } from './ports.ts';
import {
  isAlive,
  logTail,
  OWNER_ENV,
  type ProcessSpec,
  processesMarkedWith,
  startProcess,
  startWatchdog,
  stopProcessGroup,
  writePidFile,
} from './processes.ts';

/** The two users every control plane has. `restricted` starts with no rights at all. */
export const USERS = [
  { name: 'admin', group: 'system:masters' },
  { name: 'restricted', group: 'kwatch:restricted' },
] as const;

/** Options of {@link startControlPlane}. */
export interface ControlPlaneOptions {
  /** Extra kube-apiserver flags, e.g. `['--watch-cache=false']`. Default: none. */
  readonly extraApiserverFlags?: readonly string[];
  /**
   * kube-apiserver feature gates, e.g. `{ ShardedListAndWatch: true }` (1.36's server-side sharded list and watch).
   * Passed as one `--feature-gates` flag. Default: none (the release's defaults).
   */
  readonly featureGates?: Readonly<Record<string, boolean>>;
  /** Directory for data, certificates, logs and the kubeconfig. Default: a new directory under the OS temp dir. */
  readonly dir?: string;
  /**
   * Kill both processes when this process exits, even by SIGKILL (a shell watchdog polls it).
   * `false` leaves them running, as `kwatch-testenv up` does. Default: `true`.
   */
  readonly killOnExit?: boolean;
  /** How long to wait for etcd and kube-apiserver to become ready, in ms. Default: `180000`. */
  readonly readyTimeoutMs?: number;
  /** Build and start progress, one line of text each. Default: none (silent). */
  readonly onProgress?: (message: string) => void;
}

/** Everything needed to reach, restart and stop a running control plane; JSON-serialisable. */
export interface ControlPlaneState {
  readonly dir: string;
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly etcdUrl: string;
  readonly tokens: Readonly<Record<(typeof USERS)[number]['name'], string>>;
  readonly tls: TlsIdentity;
  readonly pidFile: string;
  readonly etcd: ProcessSpec & { readonly pid: number };
  readonly apiserver: ProcessSpec & { readonly pid: number };
  readonly watchdogPid?: number;
}

/**
 * A running kube-apiserver + etcd pair on loopback.
 *
 * @example
 * ```ts
 * const cp = await startControlPlane();
 * try {
 *   const core = cp.kubeConfig.makeApiClient(CoreV1Api);
 *   await core.listNamespace();
 * } finally {
 *   await cp.stop();
 * }
 * ```
 */
export class ControlPlane {
  #state: ControlPlaneState;
  readonly #stateFile: string | undefined;

  /** Use {@link startControlPlane} or {@link attachControlPlane}. */
  constructor(state: ControlPlaneState, stateFile?: string) {
    this.#state = state;
    this.#stateFile = stateFile;
  }

  /** The serialisable description of this control plane (pids, ports, paths). */
  get state(): ControlPlaneState {
    return this.#state;
  }
  /** Absolute path of the kubeconfig (contexts `admin` (current), `restricted`, `admin-token`, `restricted-token`). */
  get kubeconfigPath(): string {
    return this.#state.kubeconfigPath;
  }
  /** The apiserver's URL, `https://127.0.0.1:<port>`. */
  get server(): string {
    return this.#state.server;
  }
  /** A KubeConfig loaded from {@link kubeconfigPath}, on the `admin` context. */
  get kubeConfig(): KubeConfig {
    return this.kubeConfigFor('admin');
  }

  /** A KubeConfig on the named context (`admin`, `restricted`, `admin-token`, `restricted-token`). */
  kubeConfigFor(context: string): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.#state.kubeconfigPath);
    kc.setCurrentContext(context);
    return kc;
  }

  /**
   * Stops both processes and removes the directory (pass `{ keepDir: true }` to keep logs and data).
   * Whatever another handle restarted (a test file restarting the shared apiserver from a worker) is stopped too:
   * the state file is re-read, and every process marked with this control plane's directory is found and
   * ended, SIGTERM then SIGKILL.
   */
  async stop(options: { keepDir?: boolean } = {}): Promise<void> {
    this.#refresh();
    const { apiserver, etcd, watchdogPid, dir } = this.#state;
    const marked = processesMarkedWith(dir);
    const apiservers = new Set([apiserver.pid, ...readPids(this.#state.pidFile), ...marked]);
    apiservers.delete(etcd.pid);
    await Promise.all([...apiservers].filter((pid) => pid > 0).map((pid) => stopProcessGroup(pid)));
    await stopProcessGroup(etcd.pid, 3_000);
    for (const pid of processesMarkedWith(dir)) await stopProcessGroup(pid, 1_000);
    if (watchdogPid) await stopProcessGroup(watchdogPid, 1_000);
    if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  }

  /** Stops kube-apiserver and starts it again on the same port with the same flags; etcd keeps its data. */
  async restartApiserver(options: { readyTimeoutMs?: number } = {}): Promise<void> {
    await this.stopApiserver();
    await this.startApiserver(options);
  }

  /** Stops kube-apiserver only (clients then see connection refused until {@link startApiserver}). */
  async stopApiserver(): Promise<void> {
    this.#refresh();
    await stopProcessGroup(this.#state.apiserver.pid);
  }

  /** Starts kube-apiserver again after {@link stopApiserver}; resolves when it is ready. */
  async startApiserver(options: { readyTimeoutMs?: number } = {}): Promise<void> {
    this.#refresh();
    if (isAlive(this.#state.apiserver.pid)) return;
    const pid = startProcess(this.#state.apiserver);
    this.#update({ ...this.#state, apiserver: { ...this.#state.apiserver, pid } });
    await waitForApiserver(this.#state, options.readyTimeoutMs ?? 180_000);
  }

  /** etcd's current revision (the newest resourceVersion of anything stored). */
  async etcdRevision(): Promise<number> {
    const res = await this.#etcd('/v3/kv/range', { key: Buffer.from('\0').toString('base64') });
    const revision = Number((res as { header?: { revision?: string } }).header?.revision);
    if (!Number.isSafeInteger(revision))
      throw new TestenvError('ETCD_REQUEST_FAILED', `etcd gave no revision: ${JSON.stringify(res)}`);
    return revision;
  }

  /** Compacts etcd up to `revision` (physically), so older resourceVersions become 410 Gone. */
  async compact(revision: number): Promise<void> {
    await this.#etcd('/v3/kv/compaction', { revision: String(revision), physical: true });
  }

  async #etcd(path: string, body: unknown): Promise<unknown> {
    const res = await simpleRequest(`${this.#state.etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (res.status !== 200) throw new TestenvError('ETCD_REQUEST_FAILED', `etcd ${path} answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body) as unknown;
  }

  /** Picks up restarts made through another handle of the same control plane (its state file is shared). */
  #refresh(): void {
    if (!this.#stateFile) return;
    try {
      this.#state = JSON.parse(readFileSync(this.#stateFile, 'utf8')) as ControlPlaneState;
    } catch {
      /* removed or being rewritten: keep what we know */
    }
  }

  #update(state: ControlPlaneState): void {
    this.#state = state;
    writePidFile(state.pidFile, [state.etcd.pid, state.apiserver.pid]);
    if (this.#stateFile) writeFileSync(this.#stateFile, JSON.stringify(state, null, 2));
  }

  /** Stops the control plane on `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * Builds (if needed) and starts etcd and kube-apiserver on free loopback ports, with an
 * admin and a restricted user (client certificates and tokens) and a kubeconfig.
 * Resolves when `/readyz` is ok and namespace `default` exists.
 *
 * @example
 * ```ts
 * await using cp = await startControlPlane({ extraApiserverFlags: ['--watch-cache=false'] });
 * console.log(cp.kubeconfigPath);
 * ```
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const say = options.onProgress ?? (() => {});
  const binaries = await ensureBinaries({ onProgress: (p) => say(describeBuildProgress(p)) });
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'kwatch-testenv-'));
  const readyTimeoutMs = options.readyTimeoutMs ?? 180_000;
  const pidFile = join(dir, 'pids');
  writePidFile(pidFile, []);
  const watchdogPid = options.killOnExit === false ? undefined : startWatchdog(process.pid, pidFile, dir);
  const env = { [OWNER_ENV]: dir };
  let state: ControlPlaneState | undefined;
  try {
    const pki = await generatePki(dir, USERS);
    const tokens = { admin: randomBytes(24).toString('hex'), restricted: randomBytes(24).toString('hex') };
    const tokenFile = join(dir, 'tokens.csv');
    writeFileSync(tokenFile, `${USERS.map((u) => `${tokens[u.name]},${u.name},${u.name}-uid,"${u.group}"`).join('\n')}\n`, {
      mode: 0o600,
    });
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const server = `https://127.0.0.1:${apiPort}`;
    const etcd: ProcessSpec = {
      name: 'etcd',
      bin: binaries.etcd,
      env,
      logFile: join(dir, 'etcd.log'),
      args: [
        '--name=testenv',
        `--data-dir=${join(dir, 'etcd')}`,
        '--unsafe-no-fsync=true',
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=testenv=http://127.0.0.1:${peerPort}`,
        '--log-level=warn',
      ],
    };
    const apiserver: ProcessSpec = {
      name: 'kube-apiserver',
      bin: binaries.kubeApiserver,
      env,
      logFile: join(dir, 'kube-apiserver.log'),
      args: [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        '--endpoint-reconciler-type=none',
        `--cert-dir=${dir}`,
        `--tls-cert-file=${pki.serving.certFile}`,
        `--tls-private-key-file=${pki.serving.keyFile}`,
        `--client-ca-file=${pki.ca.certFile}`,
        `--token-auth-file=${tokenFile}`,
        '--authorization-mode=RBAC',
        '--service-cluster-ip-range=10.0.0.0/24',
        `--service-account-issuer=${server}/`,
        `--service-account-key-file=${pki.serviceAccount.publicKeyFile}`,
        `--service-account-signing-key-file=${pki.serviceAccount.keyFile}`,
        '--disable-admission-plugins=ServiceAccount',
        '--allow-privileged=true',
        '--profiling=false',
        ...(options.extraApiserverFlags ?? []),
        ...featureGatesFlag(options.featureGates),
      ],
    };
    const admin = pki.clients.admin;
    if (!admin) throw new TestenvError('CERTS_FAILED', 'no admin client certificate was generated');
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeKubeconfig(kubeconfigPath, { server, caFile: pki.ca.certFile, clients: pki.clients, tokens });

    say(`starting etcd on ${etcdUrl}`);
    const etcdPid = startProcess(etcd);
    state = {
      dir,
      server,
      kubeconfigPath,
      etcdUrl,
      tokens,
      pidFile,
      tls: { caFile: pki.ca.certFile, certFile: admin.certFile, keyFile: admin.keyFile },
      etcd: { ...etcd, pid: etcdPid },
      apiserver: { ...apiserver, pid: -1 },
      ...(watchdogPid ? { watchdogPid } : {}),
    };
    writePidFile(pidFile, [etcdPid]);
    await waitFor(etcd.name, etcdPid, etcd.logFile, readyTimeoutMs, dir, async () => {
      const res = await simpleRequest(`${etcdUrl}/health`);
      return res.status === 200 && res.body.includes('"health":"true"');
    });

    say(`starting kube-apiserver on ${server}`);
    const apiPid = startProcess(apiserver);
    state = { ...state, apiserver: { ...apiserver, pid: apiPid } };
    writePidFile(pidFile, [etcdPid, apiPid]);
    await waitForApiserver(state, readyTimeoutMs);
    say(`control plane ready (${Math.round(process.uptime())} s since process start)`);
    return new ControlPlane(state);
  } catch (err) {
    for (const pid of [state?.apiserver.pid, state?.etcd.pid, watchdogPid]) {
      if (pid && pid > 0) await stopProcessGroup(pid, 2_000);
    }
    for (const pid of processesMarkedWith(dir)) await stopProcessGroup(pid, 1_000);
    if (err instanceof TestenvError) throw err;
    throw new TestenvError('START_FAILED', `control plane failed to start (logs kept in ${dir}): ${String(err)}`, {
      cause: err,
      logDir: dir,
    });
  }
}

/**
 * Re-creates the handle of a control plane started elsewhere (another process, or
 * `kwatch-testenv up`) from its state file; restarts through it update that file.
 *
 * @example
 * ```ts
 * const cp = attachControlPlane(process.env.KWATCH_TESTENV_STATE!);
 * await cp.restartApiserver();
 * ```
 */
export function attachControlPlane(stateFile: string): ControlPlane {
  let state: ControlPlaneState;
  try {
    state = JSON.parse(readFileSync(stateFile, 'utf8')) as ControlPlaneState;
  } catch (err) {
    throw new TestenvError('NOT_RUNNING', `no control plane state at ${stateFile}`, { cause: err });
  }
  return new ControlPlane(state, stateFile);
}

/** Saves a state file for {@link attachControlPlane}. */
export function saveState(cp: ControlPlane, stateFile: string): ControlPlane {
  writeFileSync(stateFile, JSON.stringify(cp.state, null, 2), { mode: 0o600 });
  return new ControlPlane(cp.state, stateFile);
}

function readPids(pidFile: string): number[] {
  try {
    return readFileSync(pidFile, 'utf8')
      .split('\n')
      .map(Number)
      .filter((pid) => Number.isSafeInteger(pid) && pid > 0);
  } catch {
    return [];
  }
}

async function waitForApiserver(state: ControlPlaneState, timeoutMs: number): Promise<void> {
  const { apiserver, server, tls, dir } = state;
  await waitFor(apiserver.name, apiserver.pid, apiserver.logFile, timeoutMs, dir, async () => {
    const ready = await simpleRequest(`${server}/readyz`, { tls });
    if (ready.status !== 200) return false;
    const ns = await simpleRequest(`${server}/api/v1/namespaces/default`, { tls });
    return ns.status === 200;
  });
}

async function waitFor(
  name: string,
  pid: number,
  logFile: string,
  timeoutMs: number,
  dir: string,
  probe: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      throw new TestenvError('START_FAILED', `${name} exited during start-up (logs in ${dir}):\n${logTail(logFile)}`, {
        logDir: dir,
      });
    }
    if (await probe().catch(() => false)) return;
    await sleep(250);
  }
  throw new TestenvError('NOT_READY', `${name} not ready after ${timeoutMs} ms (logs in ${dir}):\n${logTail(logFile)}`, {
    logDir: dir,
  });
}

/** The `--feature-gates` flag for `gates` (none when empty); a gate name must be a CamelCase identifier. */
function featureGatesFlag(gates: Readonly<Record<string, boolean>> | undefined): string[] {
  const entries = Object.entries(gates ?? {});
  if (entries.length === 0) return [];
  for (const [name, on] of entries) {
    if (!/^[A-Z][A-Za-z0-9]*$/.test(name) || typeof on !== 'boolean') {
      throw new TestenvError(
        'INVALID_OPTION',
        `Expected feature gates as { Name: true|false }, got ${JSON.stringify(name)}: ${JSON.stringify(on)}`,
      );
    }
  }
  return [`--feature-gates=${entries.map(([name, on]) => `${name}=${on}`).join(',')}`];
}
