// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiError, checkOptions, KubeClient, optionSchemas, requireOption, sleep } from '@kwatch/watch-core';
import { z } from 'zod';
import { DEFAULTS } from './defaults.ts';

/** Options of {@link LeaderElector}. Every default is in `DEFAULTS.leaderElection` (client-go's values). */
export interface LeaderElectionOptions {
  /** The cluster. Default: the kubeconfig kubectl would use (or the in-cluster service account). */
  readonly kubeConfig?: KubeConfig | undefined;
  /** The request core to use (its credentials and shared connections). Default: a `KubeClient` on `kubeConfig`. */
  readonly client?: KubeClient | undefined;
  /** Namespace of the Lease. Required. */
  readonly namespace: string;
  /** Name of the Lease. Required. */
  readonly name: string;
  /** This candidate's identity. Default: `<hostname>-<random>`. */
  readonly identity?: string;
  /** How long a leader's claim lasts without renewal, in seconds. Default: `15`. */
  readonly leaseDurationSeconds?: number;
  /** A leader that cannot renew for this long steps down, in seconds; must be below the lease duration. Default: `10`. */
  readonly renewDeadlineSeconds?: number;
  /** Time between tries to acquire or renew, in seconds; must be below the renew deadline. Default: `2`. */
  readonly retryPeriodSeconds?: number;
  /** Called when this candidate becomes leader; the signal aborts when it stops leading. Default: none. */
  readonly onStartedLeading?: (signal: AbortSignal) => void;
  /** Called when this candidate stops leading (lost, released or stopped). Default: none. */
  readonly onStoppedLeading?: () => void;
  /** Called when the observed leader changes (including to this candidate). Default: none. */
  readonly onNewLeader?: (identity: string) => void;
}

/** {@link LeaderElectionOptions} with every default applied. */
export interface ResolvedLeaderElectionOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineSeconds: number;
  readonly retryPeriodSeconds: number;
  readonly onStartedLeading: LeaderElectionOptions['onStartedLeading'];
  readonly onStoppedLeading: LeaderElectionOptions['onStoppedLeading'];
  readonly onNewLeader: LeaderElectionOptions['onNewLeader'];
}

const { nonEmpty, positiveSeconds, function: fn } = optionSchemas;

/** The lease options without the cluster, for a schema of options that include them (`StreamWatch.run`'s). */
export const leaderElectionOptionsShape = {
  client: z.custom<KubeClient>((v) => v instanceof KubeClient, 'a KubeClient').optional(),
  namespace: nonEmpty,
  name: nonEmpty,
  identity: nonEmpty.optional(),
  leaseDurationSeconds: positiveSeconds.optional(),
  renewDeadlineSeconds: positiveSeconds.optional(),
  retryPeriodSeconds: positiveSeconds.optional(),
  onStartedLeading: fn.optional(),
  onStoppedLeading: fn.optional(),
  onNewLeader: fn.optional(),
};

const LeaderElectionOptionsSchema = z.strictObject({
  ...leaderElectionOptionsShape,
  // A KubeConfig, checked by the KubeClient made for it.
  kubeConfig: z.custom<KubeConfig>((v) => typeof v === 'object' && v !== null, 'a KubeConfig').optional(),
});

/**
 * Validates a {@link LeaderElector}'s options and applies the defaults: a missing, unknown or bad option is a
 * `KwatchError` `INVALID_OPTION` naming it, and so are durations out of order (client-go's rules: the renew
 * deadline below the lease duration, the retry period below the renew deadline).
 */
export function resolveLeaderElectionOptions(options: LeaderElectionOptions): ResolvedLeaderElectionOptions {
  const o = checkOptions(LeaderElectionOptionsSchema, options, 'the leader election options') as LeaderElectionOptions;
  const d = DEFAULTS.leaderElection;
  const leaseDurationSeconds = o.leaseDurationSeconds ?? d.leaseDurationSeconds;
  const renewDeadlineSeconds = o.renewDeadlineSeconds ?? d.renewDeadlineSeconds;
  const retryPeriodSeconds = o.retryPeriodSeconds ?? d.retryPeriodSeconds;
  requireOption(
    renewDeadlineSeconds < leaseDurationSeconds,
    'renewDeadlineSeconds',
    `less than \`leaseDurationSeconds\` (${leaseDurationSeconds})`,
    renewDeadlineSeconds,
  );
  requireOption(
    retryPeriodSeconds < renewDeadlineSeconds,
    'retryPeriodSeconds',
    `less than \`renewDeadlineSeconds\` (${renewDeadlineSeconds})`,
    retryPeriodSeconds,
  );
  return {
    client: o.client ?? new KubeClient({ kubeConfig: o.kubeConfig }),
    namespace: o.namespace,
    name: o.name,
    identity: o.identity ?? `${hostname()}-${randomBytes(4).toString('hex')}`,
    leaseDurationSeconds,
    renewDeadlineSeconds,
    retryPeriodSeconds,
    onStartedLeading: o.onStartedLeading,
    onStoppedLeading: o.onStoppedLeading,
    onNewLeader: o.onNewLeader,
  };
}

/** Options of {@link LeaderElector.stop}. Every default is in `DEFAULTS.leaderElection`. */
export interface StopLeadingOptions {
  /** Release the lease when leading; `false` simulates a crash (the lease then expires). Default: `true`. */
  readonly release?: boolean;
  /**
   * How long the release may take, in ms (`0`: do not wait): an apiserver that does not answer cannot hold `stop()`
   * longer. Default: `500`.
   */
  readonly releaseTimeoutMs?: number;
}

const StopLeadingOptionsSchema = z.strictObject({
  release: optionSchemas.boolean.optional(),
  releaseTimeoutMs: optionSchemas.nonNegativeMs.optional(),
});

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}
interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** MicroTime as the API wants it: RFC 3339 with six fractional digits. */
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection:
 * every write carries the Lease's resourceVersion (optimistic concurrency, so two
 * candidates cannot both win a race); a candidate takes over only when the holder has
 * not renewed for a full lease duration *as observed on its own clock*; a leader that
 * cannot renew within the renew deadline steps down before anyone else may take over.
 * The lease is released on `stop()`, so a successor need not wait.
 *
 * @example
 * ```ts
 * const elector = new LeaderElector({ kubeConfig, namespace: 'ops', name: 'my-controller',
 *   onStartedLeading: (signal) => runController(signal), onStoppedLeading: () => console.log('standby') });
 * void elector.run();
 * process.on('SIGTERM', () => elector.stop());
 * ```
 */
export class LeaderElector {
  readonly identity: string;
  readonly #o: ResolvedLeaderElectionOptions;
  /** Every lease request goes through it: a signal on each, typed errors (404, 409 are `ApiError`s). */
  readonly #client: KubeClient;
  readonly #durationMs: number;
  readonly #deadlineMs: number;
  readonly #retryMs: number;
  #controller = new AbortController();
  #leading: AbortController | undefined;
  #observed: { record: string; at: number } | undefined;
  #lastLeader: string | undefined;
  /** The Lease as this candidate last wrote it (with its resourceVersion): what `stop()` releases, in one write. */
  #written: Lease | undefined;
  #running: Promise<void> | undefined;

  /** Throws a `KwatchError` `INVALID_OPTION` naming a missing, unknown or bad option (see {@link LeaderElectionOptions}). */
  constructor(options: LeaderElectionOptions) {
    const o = resolveLeaderElectionOptions(options);
    this.#o = o;
    this.#client = o.client;
    this.identity = o.identity;
    this.#durationMs = o.leaseDurationSeconds * 1000;
    this.#deadlineMs = o.renewDeadlineSeconds * 1000;
    this.#retryMs = o.retryPeriodSeconds * 1000;
  }

  /** True while this candidate holds the lease. */
  get isLeader(): boolean {
    return this.#leading !== undefined;
  }

  /** Campaigns until stopped: acquire, lead while renewing, campaign again after losing the lease. */
  run(): Promise<void> {
    this.#running ??= this.#loop();
    return this.#running;
  }

  /**
   * Stops campaigning: a request in flight is aborted at once, and a leader steps down, then releases the lease
   * (unless `release: false`, which simulates a crash) within `releaseTimeoutMs` (default `500`) — an apiserver that
   * does not answer cannot hold `stop()` longer; the lease then expires after its duration instead. Bad options
   * reject with `INVALID_OPTION` before anything stops.
   */
  async stop(options: StopLeadingOptions = {}): Promise<void> {
    const o = checkOptions(StopLeadingOptionsSchema, options, 'the stop options') as StopLeadingOptions;
    const release = o.release ?? DEFAULTS.leaderElection.release;
    const releaseTimeoutMs = o.releaseTimeoutMs ?? DEFAULTS.leaderElection.releaseTimeoutMs;
    this.#controller.abort();
    const wasLeader = this.isLeader;
    this.#stepDown();
    await this.#running?.catch(() => {});
    if (wasLeader && release) {
      await this.#release(AbortSignal.timeout(releaseTimeoutMs)).catch(() => {});
    }
  }

  async #loop(): Promise<void> {
    const signal = this.#controller.signal;
    while (!signal.aborted) {
      // One try may take at most the renew deadline: a stalled apiserver must not stall the campaign.
      const acquired = await this.#tryAcquireOrRenew(AbortSignal.any([signal, AbortSignal.timeout(this.#deadlineMs)])).catch(
        () => false,
      );
      if (signal.aborted) return;
      if (acquired && !this.#leading) {
        this.#leading = new AbortController();
        safely(() => this.#o.onStartedLeading?.(this.#leading!.signal));
      }
      if (this.#leading) {
        await this.#renewLoop();
        continue;
      }
      await sleep(this.#retryMs * (1 + Math.random() * 0.2), signal);
    }
  }

  /** While leading: renew every retry period; step down if no renewal succeeds within the deadline. */
  async #renewLoop(): Promise<void> {
    const signal = this.#controller.signal;
    let lastRenew = Date.now();
    while (!signal.aborted && this.#leading) {
      if (!(await sleep(this.#retryMs, signal))) return;
      // As client-go: a renewal may take what is left of the renew deadline, no more, so a leader whose apiserver
      // stalls steps down before its lease can expire for the others.
      const left = Math.max(1, lastRenew + this.#deadlineMs - Date.now());
      const attempt = AbortSignal.any([signal, AbortSignal.timeout(left)]);
      const renewed = await this.#tryAcquireOrRenew(attempt).catch(() => false);
      if (renewed) lastRenew = Date.now();
      else if (Date.now() - lastRenew >= this.#deadlineMs || this.#lastLeader !== this.identity) {
        this.#stepDown();
        return;
      }
    }
  }

  #stepDown(): void {
    const leading = this.#leading;
    if (!leading) return;
    this.#leading = undefined;
    leading.abort();
    safely(() => this.#o.onStoppedLeading?.());
  }

  #path(name = ''): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#o.namespace)}/leases${name ? `/${encodeURIComponent(name)}` : ''}`;
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const now = Date.now();
    const leaseSeconds = Math.ceil(this.#durationMs / 1000);
    const mine: LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: leaseSeconds,
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    const lease = await this.#client.request<Lease>({ path: this.#path(this.#o.name), signal }).catch((e: unknown) => {
      if (e instanceof ApiError && e.httpStatus === 404) return undefined;
      throw e;
    });
    if (!lease) {
      // A 409 here (another candidate created it first) rejects: this try failed.
      this.#written = await this.#client.request<Lease>({
        method: 'POST',
        path: this.#path(),
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.#o.name, namespace: this.#o.namespace },
          spec: mine,
        },
        signal,
      });
      this.#observe(JSON.stringify(mine), mine.holderIdentity ?? '', now);
      return true;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    this.#observe(JSON.stringify(spec), holder, now);
    const held = holder !== '' && holder !== this.identity;
    const expired = now >= (this.#observed?.at ?? now) + (spec.leaseDurationSeconds ?? 0) * 1000;
    if (held && !expired) return false;
    const next: LeaseSpec =
      holder === this.identity
        ? { ...spec, renewTime: microTime(now), leaseDurationSeconds: leaseSeconds }
        : { ...mine, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 };
    // On the resourceVersion just read: a 409 (it changed meanwhile) rejects, so two candidates cannot both win.
    this.#written = await this.#client.request<Lease>({
      method: 'PUT',
      path: this.#path(this.#o.name),
      body: { ...lease, spec: next },
      signal,
    });
    this.#observe(JSON.stringify(next), this.identity, now);
    return true;
  }

  /** Remembers when the lease record last changed, on this candidate's clock. */
  #observe(record: string, holder: string, now: number): void {
    if (this.#observed?.record !== record) this.#observed = { record, at: now };
    if (holder !== this.#lastLeader) {
      this.#lastLeader = holder;
      if (holder) safely(() => this.#o.onNewLeader?.(holder));
    }
  }

  /** Gives the lease up with one write on the version this candidate last wrote (a 409 means it is not ours anymore). */
  async #release(signal: AbortSignal): Promise<void> {
    const lease = this.#written;
    if (!lease || lease.spec?.holderIdentity !== this.identity) return;
    this.#written = undefined;
    const spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(Date.now()) };
    await this.#client.request({ method: 'PUT', path: this.#path(this.#o.name), body: { ...lease, spec }, signal });
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    /* a callback must not break the election */
  }
}
