// ShardRing: replicas as coordination.k8s.io Leases, and a consistent-hash ring of uid-hash ranges over them.
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../client/index.ts';
import { ApiError, asKwatchError, HASH_SPACE, type HashRange, KwatchError } from '../internal/index.ts';
import { intersect, sameRanges, subtract, union } from './rangeSet.ts';
import type { Shard } from './shard.ts';

/** The label that marks a ring's Leases; its value is the ring's name. */
export const RING_LABEL = 'kwatch.io/shard-ring';

/**
 * Options of a {@link ShardRing}.
 *
 * @example
 * ```ts
 * new ShardRing({ name: 'mirror', namespace: 'kube-system', identity: process.env.POD_NAME, leaseDurationMs: 15_000 });
 * ```
 */
export interface ShardRingOptions {
  /** The ring's name: replicas with the same name in the same namespace share the hash space. Required. */
  readonly name: string;
  /** Where the replicas' Leases live. Required. */
  readonly namespace: string;
  /** This replica's identity (unique in the ring). Default: `<hostname>-<random>`. */
  readonly identity?: string | undefined;
  /** A replica whose Lease was not renewed for this long (as seen on this replica's clock) leaves the ring, in ms. Default: `15000`. */
  readonly leaseDurationMs?: number;
  /** How often this replica renews its Lease and reads the others', in ms. Default: a third of `leaseDurationMs`. */
  readonly renewIntervalMs?: number;
  /**
   * How long a range this replica gains waits before it owns it, in ms: long enough for every other replica to have
   * re-read the ring and let go of it (each re-reads every `renewIntervalMs`, each request bounded by it). Ranges
   * gained only because members left (expired or stopped, no one joined) are owned at once once this replica has been
   * a member that long. Default: `3 × renewIntervalMs`.
   */
  readonly handoffMs?: number;
  /** Points per replica on the ring; more balance the ranges better. Default: `32`. */
  readonly virtualNodes?: number;
  /** The cluster. Default: the default kubeconfig or the in-cluster service account. */
  readonly kubeConfig?: KubeConfig;
  /** The request core to use. Default: a `KubeClient` on `kubeConfig`. */
  readonly client?: KubeClient;
  /** Called after each change of the members (with this replica's ranges in the new view). Default: none. */
  readonly onChange?: (ranges: readonly HashRange[], members: readonly string[]) => void;
}

type Lease = {
  metadata?: { name?: string; resourceVersion?: string; labels?: Record<string, string> };
  spec?: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
};

const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** This process's monotonic clock, in ms: every local duration is measured on it (a step of the wall clock moves none). */
const monotonic = (): number => performance.now();

/**
 * A virtual node's place on the ring: the first 8 bytes (big-endian) of SHA-256 of `'<identity>/<i>'`. Not the uid
 * hash: FNV-1a of strings that differ only in their last characters lands in clusters (3 members got 62/38/0 %).
 */
const ringPoint = (member: string, i: number): bigint =>
  createHash('sha256').update(`${member}/${i}`).digest().readBigUInt64BE(0);

/**
 * The ranges each member owns on a consistent-hash ring: `virtualNodes` points per member at
 * `ringPoint(identity, i)` (SHA-256); a point owns the hashes from the previous point (inclusive) up to itself (exclusive),
 * the first point also the wrap-around from the last. Together the ranges tile `[0, 2⁶⁴)` exactly.
 *
 * @example
 * ```ts
 * ringRanges(['a', 'b', 'c'], 32).get('a'); // a's ranges
 * ```
 */
export function ringRanges(members: readonly string[], virtualNodes: number): Map<string, HashRange[]> {
  const out = new Map<string, HashRange[]>(members.map((m) => [m, []]));
  const points = members
    .flatMap((m) => Array.from({ length: virtualNodes }, (_, i) => ({ at: ringPoint(m, i), owner: m })))
    .sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : x.owner < y.owner ? -1 : 1));
  if (points.length === 0) return out;
  const add = (owner: string, start: bigint, end: bigint): void => {
    if (start >= end) return;
    const list = out.get(owner) as HashRange[];
    const last = list.at(-1);
    if (last && last.end === start) list[list.length - 1] = { start: last.start, end };
    else list.push({ start, end });
  };
  const first = points[0] as { at: bigint; owner: string };
  const lastPoint = points.at(-1) as { at: bigint; owner: string };
  add(first.owner, 0n, first.at); // the wrap-around, low part
  for (let i = 1; i < points.length; i++) {
    const p = points[i] as { at: bigint; owner: string };
    add(p.owner, (points[i - 1] as { at: bigint }).at, p.at);
  }
  add(first.owner, lastPoint.at, HASH_SPACE); // the wrap-around, high part
  for (const list of out.values()) list.sort((x, y) => (x.start < y.start ? -1 : 1));
  return out;
}

/**
 * Replicas of a sharded consumer: each keeps a Lease labelled with the ring's name; the members are the Leases renewed
 * within `leaseDurationMs`; the 64-bit uid-hash space is split among them by a consistent-hash ring (so that a member
 * joining or leaving moves ~1/N of the objects). `start()` joins, `stop()` leaves (deletes the Lease; a replica that
 * dies simply stops renewing and drops out after `leaseDurationMs`).
 *
 * What a replica owns ({@link ShardRing.ranges}) is fenced so that no object has two owners at once: a range lost in
 * this replica's view is let go at once; a range gained is owned only after `handoffMs` (the time every other replica
 * needs to see the change), unless it was gained only because members left, or two reads in a row found no other
 * Lease of the ring; a replica that has not renewed its Lease and re-read the ring for `leaseDurationMs −
 * renewIntervalMs` (or `handoffMs`, if shorter) owns nothing until it does again (the others drop it only after
 * `leaseDurationMs`; a newcomer owns what it takes after `handoffMs`). Durations are measured on the monotonic clock.
 * A range stays unowned at most `leaseDurationMs + 2 × renewIntervalMs` after its owner dies
 * (expiry as seen on a ticking clock) — docs/scaling.md.
 *
 * @example
 * ```ts
 * const ring = new ShardRing({ name: 'mirror', namespace: 'kube-system', identity: process.env.POD_NAME });
 * await ring.start();
 * ring.members(); ring.ranges(); // who is in the ring; this replica's uid-hash ranges
 * await ring.stop();
 * ```
 */
export class ShardRing implements Shard {
  readonly identity: string;
  readonly #name: string;
  readonly #namespace: string;
  readonly #durationMs: number;
  readonly #intervalMs: number;
  readonly #vnodes: number;
  readonly #handoffMs: number;
  readonly #client: KubeClient;
  readonly #onChange: ShardRingOptions['onChange'];
  /** Per Lease name: its last record (holder, renewTime) and when this replica saw it change. */
  readonly #seen = new Map<string, { record: string; holder: string; at: number }>();
  #members: string[] = [];
  #ranges = new Map<string, HashRange[]>();
  /** What this replica owns (fenced), and the gained ranges waiting for their hand-off. */
  #owned: HashRange[] = [];
  #pending: { ranges: HashRange[]; at: number }[] = [];
  #pendingTimer: ReturnType<typeof setTimeout> | undefined;
  /** When this replica's current membership began (its first renew after a start or a fence). */
  #memberSince: number | undefined;
  /** Successful rounds in a row whose read found no Lease of the ring but this replica's. */
  #aloneRounds = 0;
  #fenceTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #listeners = new Set<() => void>();
  #stop: AbortController | undefined;
  #loop: Promise<void> | undefined;
  /** A `stop()` that has not finished (a `start()` waits for it). */
  #stopping: Promise<void> | undefined;

  /** Checks the options (an `INVALID_OPTION` naming what is wrong). */
  constructor(options: ShardRingOptions) {
    const { name, namespace } = options;
    if (!name || !namespace) throw new KwatchError('INVALID_OPTION', 'Expected `name` and `namespace` for a ShardRing');
    this.#durationMs = options.leaseDurationMs ?? 15_000;
    this.#intervalMs = options.renewIntervalMs ?? Math.floor(this.#durationMs / 3);
    this.#vnodes = options.virtualNodes ?? 32;
    if (!(this.#durationMs >= 1000) || !(this.#intervalMs > 0 && this.#intervalMs < this.#durationMs)) {
      throw new KwatchError('INVALID_OPTION', 'Expected `leaseDurationMs` ≥ 1000 and 0 < `renewIntervalMs` < `leaseDurationMs`');
    }
    this.#handoffMs = options.handoffMs ?? 3 * this.#intervalMs;
    if (!(this.#handoffMs >= 0 && Number.isFinite(this.#handoffMs))) {
      throw new KwatchError('INVALID_OPTION', `Expected \`handoffMs\` to be a non-negative number, got ${this.#handoffMs}`);
    }
    if (!Number.isInteger(this.#vnodes) || this.#vnodes < 1) {
      throw new KwatchError('INVALID_OPTION', `Expected \`virtualNodes\` to be a positive integer, got ${this.#vnodes}`);
    }
    this.#name = name;
    this.#namespace = namespace;
    this.identity = options.identity ?? `${hostname()}-${randomBytes(4).toString('hex')}`;
    this.#client = options.client ?? new KubeClient(options.kubeConfig ? { kubeConfig: options.kubeConfig } : {});
    this.#onChange = options.onChange;
  }

  /** The members, sorted (this replica included while it runs). */
  members(): readonly string[] {
    return this.#members;
  }

  /**
   * The uid-hash ranges this replica owns at this instant, fenced (see the class): none before `start()`, during the
   * first `handoffMs`, while fenced, or after `stop()`.
   */
  ranges(): readonly HashRange[] {
    return this.#owned;
  }

  /** Calls `listener` after every change of {@link ShardRing.ranges}; returns the call that unsubscribes. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A member's ranges as this replica sees the ring. */
  rangesOf(identity: string): readonly HashRange[] {
    return this.#ranges.get(identity) ?? [];
  }

  /**
   * Joins: writes this replica's Lease, reads the ring once, then renews and re-reads every `renewIntervalMs`.
   * Idempotent. What it gains is owned after `handoffMs` (after one renew interval when the ring holds no other
   * Lease). A started ring keeps the process alive until `stop()`.
   * A first round that fails retryably (the API server unreachable for a while) does not fail it: the ring owns nothing
   * until a round succeeds; one refused for good (403, say) rejects with its error.
   */
  async start(): Promise<void> {
    if (this.#stopping) await this.#stopping; // a stop in progress ends first (its DELETE must not remove this Lease)
    if (this.#stop) return;
    const stop = new AbortController();
    this.#stop = stop;
    const first = this.#tick(stop.signal);
    this.#loop = first.catch(() => {}); // a stop() meanwhile waits for it before it deletes the Lease
    try {
      await first;
    } catch (error) {
      // Stopped meanwhile; or a failure a later round can get past (nothing is owned until one succeeds).
      if (!stop.signal.aborted && !asKwatchError(error).retryable) {
        this.#stop = undefined;
        throw error;
      }
    }
    if (stop.signal.aborted) return;
    this.#loop = (async () => {
      while (!stop.signal.aborted) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.#intervalMs);
          stop.signal.addEventListener(
            'abort',
            () => {
              clearTimeout(t);
              resolve();
            },
            { once: true },
          );
        });
        if (stop.signal.aborted) return;
        await this.#tick(stop.signal).catch(() => {}); // a failed round: the next one tries again
      }
    })();
  }

  /**
   * Leaves: stops renewing and deletes this replica's Lease (`crash: true` keeps it, as a replica that died: the
   * others drop it after `leaseDurationMs`).
   */
  async stop(options: { crash?: boolean } = {}): Promise<void> {
    const stop = this.#stop;
    if (!stop) return this.#stopping;
    this.#stop = undefined;
    stop.abort();
    // Let go first: nothing is owned once the Lease is gone.
    this.#fence();
    const loop = this.#loop;
    this.#loop = undefined;
    const stopping = (async () => {
      await loop;
      if (!options.crash) {
        await this.#client
          .request({ method: 'DELETE', path: this.#path(this.#leaseName()), signal: AbortSignal.timeout(5000) })
          .catch(() => {});
      }
      this.#update([]);
    })();
    this.#stopping = stopping;
    await stopping;
    if (this.#stopping === stopping) this.#stopping = undefined;
  }

  /**
   * This replica's Lease name: `<ring>-<identity>` when that is already a valid name; otherwise normalised, with a
   * hash of the identity, so that identities that normalise alike (`A` and `a`, `pod_1` and `pod-1`) never share one.
   */
  #leaseName(): string {
    const raw = `${this.#name}-${this.identity}`;
    const clean = raw
      .toLowerCase()
      .replace(/[^a-z0-9.-]/g, '-')
      .slice(0, 253);
    if (clean === raw) return clean;
    const hash = createHash('sha256').update(this.identity).digest('hex').slice(0, 10);
    return `${clean.slice(0, 253 - 11)}-${hash}`;
  }

  #path(name = ''): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#namespace)}/leases${name ? `/${encodeURIComponent(name)}` : ''}`;
  }

  /** One round: renew (or create) this replica's Lease, read the ring's Leases, recompute the members. */
  async #tick(outer: AbortSignal): Promise<void> {
    const signal = AbortSignal.any([outer, AbortSignal.timeout(this.#intervalMs)]);
    const startedAt = monotonic();
    const name = this.#leaseName();
    const spec = {
      holderIdentity: this.identity,
      renewTime: microTime(Date.now()),
      leaseDurationSeconds: Math.ceil(this.#durationMs / 1000),
    };
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: this.#namespace, labels: { [RING_LABEL]: this.#name } },
      spec,
    };
    try {
      // A merge patch: a Lease refuses an update without its resourceVersion, a patch needs none.
      await this.#client.request({ method: 'PATCH', path: this.#path(name), body: { metadata: body.metadata, spec }, signal });
    } catch (error) {
      if (!(error instanceof ApiError && error.httpStatus === 404)) throw error;
      await this.#client.request({ method: 'POST', path: this.#path(), body, signal });
    }
    if (outer.aborted) return;
    const list = await this.#client.request<{ items?: Lease[] }>({
      path: this.#path(),
      query: new URLSearchParams({ labelSelector: `${RING_LABEL}=${this.#name}` }),
      signal,
    });
    if (outer.aborted) return;
    // A round counts once this replica has renewed and re-read the ring: owning on a view that cannot be refreshed
    // would keep what a newcomer takes after its hand-off.
    this.#renewed(startedAt);
    const seenNow = monotonic();
    const present = new Set<string>();
    let othersOrForeign = false; // a Lease of the ring not this replica's, or its own held by another identity
    for (const lease of list.items ?? []) {
      const leaseName = lease.metadata?.name ?? '';
      const holder = lease.spec?.holderIdentity ?? '';
      if (leaseName !== name || holder !== this.identity) othersOrForeign = true;
      if (!leaseName || !holder) continue;
      present.add(leaseName);
      const renewTime = lease.spec?.renewTime ?? '';
      const record = `${holder}@${renewTime}`;
      const prev = this.#seen.get(leaseName);
      if (prev?.record === record) continue;
      // A Lease seen for the first time counts from its renewTime (a replica that died long ago is no member); a
      // change seen later counts from when this replica saw it (no trust in other clocks beyond that).
      const renewedAt = Date.parse(renewTime);
      const at = prev === undefined && Number.isFinite(renewedAt) ? seenNow - Math.max(0, Date.now() - renewedAt) : seenNow;
      this.#seen.set(leaseName, { record, holder, at });
    }
    for (const leaseName of [...this.#seen.keys()]) if (!present.has(leaseName)) this.#seen.delete(leaseName);
    // Members: Leases that changed within the lease duration on this clock; this replica always (it just renewed).
    const members = new Set<string>([this.identity]);
    for (const s of this.#seen.values()) if (seenNow - s.at < this.#durationMs) members.add(s.holder);
    // No other Lease of the ring at all (not merely expired ones), on this round and the one before: nobody else can
    // own anything, and replicas starting together have seen each other (one round alone is not enough: the first of
    // N starting at once would sync everything, then hand most of it off).
    this.#aloneRounds = present.has(name) && !othersOrForeign ? this.#aloneRounds + 1 : 0;
    this.#update([...members].sort(), this.#aloneRounds >= 2);
  }

  /**
   * A round (renew and read) that began at `startedAt` succeeded: a member (again), fenced if the next ones fail for
   * too long — before the others can drop it (`leaseDurationMs − renewIntervalMs`), and before a newcomer it has not
   * seen can own what it takes (`handoffMs`, unless the hand-off is off).
   */
  #renewed(startedAt: number): void {
    this.#memberSince ??= monotonic();
    clearTimeout(this.#fenceTimer);
    const lease = this.#durationMs - this.#intervalMs;
    const left = startedAt + (this.#handoffMs > 0 ? Math.min(lease, this.#handoffMs) : lease) - monotonic();
    this.#fenceTimer = setTimeout(() => this.#fence(), Math.max(0, left));
  }

  /** Owns nothing until the next successful renew (the others may drop this replica any time now). */
  #fence(): void {
    clearTimeout(this.#fenceTimer);
    clearTimeout(this.#pendingTimer);
    this.#memberSince = undefined;
    this.#aloneRounds = 0;
    this.#pending = [];
    this.#members = [];
    this.#ranges = new Map();
    this.#own([]);
  }

  /**
   * Recomputes the ring. `alone`: two reads of the ring in a row found no Lease but this replica's, so no other
   * replica can own anything and all of its ranges are owned at once (a lone replica waits one renew interval, not a
   * hand-off). Two starting together cannot both be alone: each writes its Lease before it reads, so the later reader
   * sees the earlier writer.
   */
  #update(members: string[], alone = false): void {
    const changed = members.join('\n') !== this.#members.join('\n');
    const before = this.#members;
    const oldMine = this.#ranges.get(this.identity) ?? [];
    this.#members = members;
    this.#ranges = ringRanges(members, this.#vnodes);
    const mine = this.#ranges.get(this.identity) ?? [];
    const now = monotonic();
    // Gained: owned at once only when members only left and this replica has been seen by all for a hand-off.
    const gained = subtract(mine, oldMine);
    const onlyLeft = members.every((m) => before.includes(m));
    const seenByAll = this.#memberSince !== undefined && now - this.#memberSince >= this.#handoffMs;
    let owned = this.#owned;
    if (gained.length > 0) {
      if (onlyLeft && seenByAll) owned = union(owned, gained);
      else this.#pending.push({ ranges: gained, at: now + this.#handoffMs });
    }
    if (alone) {
      owned = mine;
      this.#pending = [];
    }
    this.#pending = this.#pending
      .map((p) => ({ ranges: intersect(p.ranges, mine), at: p.at }))
      .filter((p) => p.ranges.length > 0);
    this.#own(intersect(owned, mine));
    this.#schedulePending();
    if (changed) {
      try {
        this.#onChange?.(mine, members);
      } catch {
        /* a callback must not stop the ring */
      }
    }
  }

  /** Promotes the pending ranges whose hand-off is over, and sets the timer for the next. */
  #schedulePending(): void {
    clearTimeout(this.#pendingTimer);
    const now = monotonic();
    const ready = this.#pending.filter((p) => p.at <= now);
    if (ready.length > 0) {
      this.#pending = this.#pending.filter((p) => p.at > now);
      const mine = this.#ranges.get(this.identity) ?? [];
      this.#own(
        intersect(
          union(
            this.#owned,
            ready.flatMap((p) => p.ranges),
          ),
          mine,
        ),
      );
    }
    if (this.#pending.length === 0) return;
    const next = Math.min(...this.#pending.map((p) => p.at));
    this.#pendingTimer = setTimeout(() => this.#schedulePending(), Math.max(0, next - now));
  }

  #own(ranges: HashRange[]): void {
    if (sameRanges(ranges, this.#owned)) return;
    this.#owned = ranges;
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch {
        /* a listener must not stop the ring */
      }
    }
  }
}
