// The resources a cluster serves (its discovery endpoints) and kubectl's reading of a resource name against them.
import type { KubeConfig } from '@kubernetes/client-node';
import { defineResource, type KubernetesObject, type ResourceDescriptor } from '@kwatch/models';
import { KindError, KubeClient, KwatchError } from '@kwatch/watch-core';
import type { ZodType, z } from 'zod';
import { DEFAULTS } from './defaults.ts';

/** One resource the cluster serves, as discovery describes it. */
export interface DiscoveredResource {
  readonly group: string;
  readonly version: string;
  /** `v1`, `apps/v1`, `stable.example.com/v1`. */
  readonly apiVersion: string;
  readonly kind: string;
  /** The resource name in URLs, e.g. `deployments`. */
  readonly plural: string;
  /** e.g. `deployment` (derived from the kind when the server gives none). */
  readonly singular: string;
  /** e.g. `['deploy']`. */
  readonly shortNames: readonly string[];
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  /** This version is the group's preferred one. */
  readonly preferred: boolean;
}

const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';

interface AggregatedList {
  kind?: string;
  items?: Array<{
    metadata?: { name?: string };
    versions?: Array<{
      version: string;
      resources?: Array<{
        resource: string;
        responseKind?: { kind?: string };
        scope?: string;
        singularResource?: string;
        shortNames?: string[];
        verbs?: string[];
      }>;
    }>;
  }>;
}
interface LegacyResourceList {
  resources?: Array<{
    name: string;
    singularName?: string;
    namespaced?: boolean;
    kind: string;
    verbs?: string[];
    shortNames?: string[];
  }>;
}
interface LegacyGroupList {
  groups?: Array<{ name: string; versions: Array<{ version: string }>; preferredVersion?: { version: string } }>;
}

/**
 * The resources a cluster serves, read from its discovery endpoints (aggregated discovery, two requests; older
 * servers one request per group version), and kubectl's way of reading a resource name against them.
 *
 * @example
 * ```ts
 * const discovery = new Discovery(kubeConfig);
 * const r = await discovery.resolve('deploy'); // { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', ... }
 * ```
 */
export class Discovery {
  readonly #client: KubeClient;
  #resources: Promise<DiscoveredResource[]> | undefined;

  /**
   * On a kubeconfig, or on a `KubeClient` to share its credentials and connections. Default: the default kubeconfig.
   * Anything else is a `KwatchError` `INVALID_OPTION`.
   */
  constructor(cluster?: KubeConfig | KubeClient) {
    if (cluster !== undefined && !(cluster instanceof KubeClient) && typeof cluster?.getCurrentCluster !== 'function') {
      throw new KwatchError(
        'INVALID_OPTION',
        'Expected the Discovery cluster to be a KubeConfig from @kubernetes/client-node or a KubeClient',
      );
    }
    this.#client = cluster instanceof KubeClient ? cluster : new KubeClient({ kubeConfig: cluster });
  }

  /** Every resource (no subresources), the core group first, then the groups and versions in the server's order of preference. Read once. */
  resources(signal?: AbortSignal): Promise<DiscoveredResource[]> {
    this.#resources ??= this.#load(signal);
    this.#resources.catch(() => {
      this.#resources = undefined; // a failed read is tried again next time
    });
    return this.#resources;
  }

  /**
   * The resource `name` means, as kubectl reads it: a plural (`deployments`), singular (`deployment`), short name
   * (`deploy`) or kind (`Deployment`), optionally with its group (`deployments.apps`, `deployment.apps`,
   * `crontabs.stable.example.com`) or version and group (`deployments.v1.apps`). Without a version, the group's
   * preferred version; a bare name found in several groups means the first (the core group first, as kubectl).
   * Throws a `KindError` `NOT_A_KIND` naming close matches for an unknown name.
   */
  async resolve(name: string, signal?: AbortSignal): Promise<DiscoveredResource> {
    return resolveResourceName(name, await this.resources(signal));
  }

  /** One discovery read; without a signal of the caller's, at most `DEFAULTS.discovery.requestTimeoutMs` (30 s). */
  #get<T>(path: string, signal: AbortSignal | undefined, accept?: string): Promise<T> {
    const timeout = signal ?? AbortSignal.timeout(DEFAULTS.discovery.requestTimeoutMs);
    return this.#client.request<T>({ path, signal: timeout, ...(accept ? { accept } : {}) });
  }

  async #load(signal: AbortSignal | undefined): Promise<DiscoveredResource[]> {
    const [core, groups] = await Promise.all([
      this.#get<AggregatedList>('/api', signal, AGGREGATED),
      this.#get<AggregatedList & LegacyGroupList>('/apis', signal, AGGREGATED),
    ]);
    if (core.kind === 'APIGroupDiscoveryList' && groups.kind === 'APIGroupDiscoveryList') {
      return [...fromAggregated(core), ...fromAggregated(groups)];
    }
    // Before aggregated discovery: one request per group version.
    const versions: Array<{ group: string; version: string; preferred: boolean }> = [
      { group: '', version: 'v1', preferred: true },
    ];
    for (const g of (groups as LegacyGroupList).groups ?? []) {
      const preferred = g.preferredVersion?.version ?? g.versions[0]?.version;
      const ordered = [...g.versions].sort((a, b) => Number(b.version === preferred) - Number(a.version === preferred));
      for (const v of ordered) versions.push({ group: g.name, version: v.version, preferred: v.version === preferred });
    }
    const lists = await Promise.all(
      versions.map((v) =>
        this.#get<LegacyResourceList>(v.group ? `/apis/${v.group}/${v.version}` : '/api/v1', signal).catch(() => ({
          resources: [],
        })),
      ),
    );
    return versions.flatMap((v, i) =>
      (lists[i]?.resources ?? [])
        .filter((r) => !r.name.includes('/'))
        .map((r) =>
          discovered(v.group, v.version, v.preferred, {
            plural: r.name,
            kind: r.kind,
            singular: r.singularName,
            namespaced: r.namespaced === true,
            verbs: r.verbs ?? [],
            shortNames: r.shortNames ?? [],
          }),
        ),
    );
  }
}

function fromAggregated(list: AggregatedList): DiscoveredResource[] {
  return (list.items ?? []).flatMap((g) =>
    (g.versions ?? []).flatMap((v, index) =>
      (v.resources ?? []).map((r) =>
        discovered(g.metadata?.name ?? '', v.version, index === 0, {
          plural: r.resource,
          kind: r.responseKind?.kind ?? '',
          singular: r.singularResource,
          namespaced: r.scope === 'Namespaced',
          verbs: r.verbs ?? [],
          shortNames: r.shortNames ?? [],
        }),
      ),
    ),
  );
}

function discovered(
  group: string,
  version: string,
  preferred: boolean,
  r: { plural: string; kind: string; singular: string | undefined; namespaced: boolean; verbs: string[]; shortNames: string[] },
): DiscoveredResource {
  return {
    group,
    version,
    apiVersion: group ? `${group}/${version}` : version,
    kind: r.kind,
    plural: r.plural,
    singular: r.singular || r.kind.toLowerCase(),
    shortNames: r.shortNames,
    namespaced: r.namespaced,
    verbs: r.verbs,
    preferred,
  };
}

const namesOf = (r: DiscoveredResource): string[] => [r.plural, r.singular, r.kind.toLowerCase(), ...r.shortNames];

/**
 * kubectl's reading of a resource name against discovered resources (see {@link Discovery.resolve}).
 *
 * @example
 * ```ts
 * resolveResourceName('ct', await discovery.resources()).plural; // 'crontabs'
 * ```
 */
export function resolveResourceName(name: string, resources: readonly DiscoveredResource[]): DiscoveredResource {
  const parts = name.trim().toLowerCase().split('.');
  const [resource = '', second, ...rest] = parts;
  const readings: Array<{ group?: string; version?: string }> = [];
  if (parts.length >= 3 && second) readings.push({ version: second, group: rest.join('.') }); // resource.version.group
  if (parts.length >= 2) readings.push({ group: parts.slice(1).join('.') }); // resource.group
  if (parts.length === 1) readings.push({});
  for (const reading of readings) {
    const matches = resources.filter(
      (r) =>
        namesOf(r).includes(resource) &&
        (reading.group === undefined || r.group === reading.group) &&
        (reading.version === undefined || r.version === reading.version),
    );
    // Discovery order is kubectl's priority (core first, groups by priority); prefer the group's preferred version.
    const chosen = reading.version ? matches[0] : (matches.find((r) => r.preferred) ?? matches[0]);
    if (!chosen) continue;
    const first = matches.find((r) => r.group === chosen.group && (reading.version !== undefined || r.preferred)) ?? chosen;
    return first;
  }
  const close = closeMatches(resource, resources);
  throw new KindError(
    'NOT_A_KIND',
    `the server has no resource '${name}'${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}`,
  );
}

/** Names of served resources close to `name` (typos, prefixes), best first, at most 5. */
export function closeMatches(name: string, resources: readonly DiscoveredResource[]): string[] {
  const scored = new Map<string, number>();
  for (const r of resources) {
    const label = r.group ? `${r.plural}.${r.group}` : r.plural;
    for (const candidate of namesOf(r)) {
      const d = distance(name, candidate);
      const near = d <= Math.max(1, Math.floor(candidate.length / 3)) || (name.length >= 3 && candidate.startsWith(name));
      if (near) scored.set(label, Math.min(scored.get(label) ?? Number.POSITIVE_INFINITY, d));
    }
  }
  return [...scored]
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .slice(0, 5)
    .map(([label]) => label);
}

/** Damerau-Levenshtein (optimal string alignment) distance: a swap of two letters (`pdos`) counts once. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** Options of {@link discoverResource}. */
export interface DiscoverResourceOptions<S extends ZodType> {
  /** The cluster to ask. Default: the kubeconfig kubectl would use (unless `discovery` is given). */
  readonly kubeConfig?: KubeConfig;
  /** A discovery to reuse (resources read once for many names). Default: a new one on `kubeConfig`. */
  readonly discovery?: Discovery;
  /** Validates and types each object. Default: none (objects are untyped {@link KubernetesObject}s). */
  readonly schema?: S;
  /** Aborts the discovery requests. Default: none. */
  readonly signal?: AbortSignal;
}

/**
 * A kind known only at run time, found through the cluster's discovery: a resource name as kubectl reads it
 * (`'crontabs.stable.example.com'`, `'ct'`, `'deploy'`), or an `apiVersion` and `kind` (or resource name).
 * Watch it like any kind; its objects are untyped `KubernetesObject`s unless a zod `schema` is given.
 *
 * @example
 * ```ts
 * const CronTab = await discoverResource({ apiVersion: 'stable.example.com/v1', kind: 'CronTab' }, { kubeConfig });
 * for await (const e of new Watcher(CronTab).stream()) console.log(e.object.metadata?.name); // KubernetesObject
 * const Typed = await discoverResource('ct', { kubeConfig, schema: CronTabSchema }); // objects: z.output<typeof CronTabSchema>
 * ```
 */
export async function discoverResource<S extends ZodType = ZodType<KubernetesObject>>(
  name: string | { readonly apiVersion: string; readonly kind: string },
  options: DiscoverResourceOptions<S> = {},
): Promise<ResourceDescriptor<z.output<S>>> {
  const discovery = options.discovery ?? new Discovery(options.kubeConfig);
  let found: DiscoveredResource;
  if (typeof name === 'string') found = await discovery.resolve(name, options.signal);
  else {
    const [group, version] = name.apiVersion.includes('/') ? name.apiVersion.split('/') : ['', name.apiVersion];
    const wanted = name.kind.toLowerCase();
    const all = await discovery.resources(options.signal);
    const match = all.find((r) => r.group === group && r.version === version && namesOf(r).includes(wanted));
    if (!match) {
      const close = closeMatches(wanted, all);
      throw new KindError(
        'NOT_A_KIND',
        `the server has no ${name.kind} in ${name.apiVersion}${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}`,
      );
    }
    found = match;
  }
  return descriptorOf(found, options.schema);
}

/** A watchable descriptor of a discovered resource (untyped unless a schema is given). */
export function descriptorOf<S extends ZodType = ZodType<KubernetesObject>>(
  r: DiscoveredResource,
  schema?: S,
): ResourceDescriptor<z.output<S>> {
  if (!r.verbs.includes('watch')) {
    throw new KindError(
      'NOT_WATCHABLE',
      `${r.kind} has no watcher support (${r.plural}.${r.group || 'core'} verbs: ${r.verbs.join(', ')})`,
    );
  }
  return defineResource({
    group: r.group,
    version: r.version,
    kind: r.kind,
    plural: r.plural,
    namespaced: r.namespaced,
    ...(schema ? { schema } : {}),
  }) as unknown as ResourceDescriptor<z.output<S>>;
}
