// The resources the simulated apiserver serves, and which one a request path names.
/**
 * A resource the simulated apiserver serves: its group/version, kind and plural, and whether
 * its objects live in namespaces.
 *
 * @example
 * ```ts
 * const crontabs: SimResource = { apiVersion: 'stable.example.com/v1', kind: 'CronTab', plural: 'crontabs' };
 * ```
 */
export interface SimResource {
  /** `v1` for the core group, `group/version` otherwise. */
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  /** Default: `true`. */
  readonly namespaced?: boolean;
}

/**
 * What a new simulator serves unless told otherwise: ConfigMaps, Secrets, Pods (namespaced)
 * and Namespaces (cluster-scoped).
 *
 * @example
 * ```ts
 * new SimulatedApiServer({ resources: [...DEFAULT_SIM_RESOURCES, crontabs] });
 * ```
 */
export const DEFAULT_SIM_RESOURCES: readonly SimResource[] = [
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' },
  { apiVersion: 'v1', kind: 'Pod', plural: 'pods' },
  { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
];

/** The stable id of a resource: `apiVersion/plural`, e.g. `v1/configmaps`. */
export function resourceId(r: SimResource): string {
  return `${r.apiVersion}/${r.plural}`;
}

/** The collection a request path names: its resource and namespace (`undefined`: all namespaces). */
export interface ParsedPath {
  readonly resource: SimResource;
  readonly namespace: string | undefined;
}

/**
 * Parses `/api/v1/namespaces/ns/configmaps`, `/api/v1/configmaps`, `/apis/g/v/namespaces/ns/plural`, ...
 * Returns `undefined` for a path no served resource answers.
 */
export function parsePath(path: string, resources: ReadonlyMap<string, SimResource>): ParsedPath | undefined {
  const parts = path
    .split('?')[0]!
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  let apiVersion: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    apiVersion = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    apiVersion = `${parts[1]}/${parts[2]}`;
    rest = parts.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest.length === 3 && rest[0] === 'namespaces') {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length !== 1) return undefined;
  const resource = resources.get(`${apiVersion}/${rest[0]}`);
  if (!resource) return undefined;
  if (namespace !== undefined && resource.namespaced === false) return undefined;
  return { resource, namespace };
}

/**
 * Finds a served resource by `apiVersion/plural` (`'v1/configmaps'`), by plural (`'configmaps'`)
 * when only one group serves it, or by kind (`'ConfigMap'`) likewise.
 */
export function findResource(resources: ReadonlyMap<string, SimResource>, name: string): SimResource | undefined {
  const exact = resources.get(name);
  if (exact) return exact;
  const matches = [...resources.values()].filter((r) => r.plural === name || r.kind === name);
  return matches.length === 1 ? matches[0] : undefined;
}
