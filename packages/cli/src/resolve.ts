import { BUILTIN_RESOURCES, type KubernetesKind, type ResourceInfo } from '@kwatch/models';

/** Orders versions as Kubernetes prefers them: GA before beta before alpha, higher first. */
function versionRank(v: string): number {
  const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
  if (!m) return 0;
  const stage = m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1;
  return stage * 1_000_000 + Number(m[1]) * 1000 + Number(m[3] ?? 0);
}

/**
 * Finds the built-in resource a name means, as kubectl reads it: `pods`, `pod`, `Pod`,
 * `deployments.apps`, `deployments.v1.apps`. With several versions, the preferred one.
 */
export function resolveResource(name: string): ResourceInfo | undefined {
  const [first, ...rest] = name.split('.');
  const lower = (first ?? '').toLowerCase();
  let group: string | undefined;
  let version: string | undefined;
  if (rest.length > 0 && /^v\d/.test(rest[0] ?? '')) {
    version = rest[0];
    group = rest.slice(1).join('.');
  } else if (rest.length > 0) {
    group = rest.join('.');
  }
  const matches = BUILTIN_RESOURCES.filter(
    (r) =>
      (r.plural === lower || r.kind.toLowerCase() === lower) &&
      (group === undefined || r.group === group) &&
      (version === undefined || r.version === version) &&
      (r.watchAll || r.watchNamespaced),
  );
  // The core group wins a bare name (events: v1, not events.k8s.io), then the preferred version.
  matches.sort((a, b) => (a.group === '' ? 0 : 1) - (b.group === '' ? 0 : 1) || versionRank(b.version) - versionRank(a.version));
  return matches[0];
}

/** The kubernetes-models class of a built-in resource (loaded on demand). */
export async function modelClass(info: ResourceInfo): Promise<KubernetesKind> {
  const mod = (await import(`@kwatch/models/${info.apiVersion}`)) as Record<string, KubernetesKind>;
  const cls = mod[info.kind];
  if (!cls) throw new Error(`@kwatch/models/${info.apiVersion} has no ${info.kind}`);
  return cls;
}
