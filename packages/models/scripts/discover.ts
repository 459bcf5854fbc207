/**
 * Reads what a live kube-apiserver serves — aggregated discovery (/api, /apis) for
 * resources, scopes and verbs; OpenAPI v3 for list kinds and which collection paths take
 * `watch` — and turns it into {@link ResourceInfo} entries. Dev-time only.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { HttpMethod, RequestContext } from '@kubernetes/client-node';
import { fetch } from 'undici';
import { collectionPath, type ResourceInfo } from '../src/resource.ts';

/** A discovered resource: what the registry records, plus the verbs (for the generator's checks). */
export interface DiscoveredResource extends ResourceInfo {
  readonly verbs: readonly string[];
}

interface AggregatedList {
  items: Array<{
    metadata?: { name?: string };
    versions: Array<{
      version: string;
      resources: Array<{ resource: string; responseKind?: { kind?: string }; scope: string; verbs: string[] }>;
    }>;
  }>;
}

interface OpenApiParameter {
  name?: string;
  $ref?: string;
}
interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
  'x-kubernetes-action'?: string;
}
interface OpenApiDocument {
  paths: Record<string, { parameters?: OpenApiParameter[]; get?: OpenApiOperation }>;
  components?: { parameters?: Record<string, OpenApiParameter> };
}

async function getJson<T>(kc: KubeConfig, path: string, accept = 'application/json'): Promise<T> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const ctx = new RequestContext(`${cluster.server}${path}`, HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  const dispatcher = ctx.getDispatcher();
  const res = await fetch(`${cluster.server}${path}`, {
    headers: { ...ctx.getHeaders(), accept },
    ...(dispatcher ? { dispatcher } : {}),
  });
  if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** Group/versions not built into kube-apiserver: those of CRDs and of APIServices backed by another server. */
async function notBuiltIn(kc: KubeConfig): Promise<Set<string>> {
  const out = new Set<string>();
  const crds = await getJson<{ items: Array<{ spec: { group: string; versions: Array<{ name: string }> } }> }>(
    kc,
    '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
  );
  for (const crd of crds.items) for (const v of crd.spec.versions) out.add(`${crd.spec.group}/${v.name}`);
  const services = await getJson<{ items: Array<{ spec: { group?: string; version?: string; service?: unknown } }> }>(
    kc,
    '/apis/apiregistration.k8s.io/v1/apiservices',
  );
  for (const s of services.items) if (s.spec.service) out.add(`${s.spec.group}/${s.spec.version}`);
  return out;
}

/** Every top-level built-in resource of every served group/version, sorted by apiVersion then kind. */
export async function discoverResources(kc: KubeConfig): Promise<DiscoveredResource[]> {
  const lists = [await getJson<AggregatedList>(kc, '/api', AGGREGATED), await getJson<AggregatedList>(kc, '/apis', AGGREGATED)];
  const skip = await notBuiltIn(kc);
  const out: DiscoveredResource[] = [];
  for (const list of lists) {
    for (const groupItem of list.items) {
      const group = groupItem.metadata?.name ?? '';
      for (const v of groupItem.versions) {
        const apiVersion = group === '' ? v.version : `${group}/${v.version}`;
        if (skip.has(apiVersion)) continue;
        const openapi = await getJson<OpenApiDocument>(kc, `/openapi/v3/${group === '' ? 'api' : 'apis'}/${apiVersion}`);
        for (const r of v.resources) {
          const kind = r.responseKind?.kind;
          if (!kind) continue;
          const namespaced = r.scope === 'Namespaced';
          const base = {
            apiVersion,
            group,
            version: v.version,
            kind,
            plural: r.resource,
            namespaced,
            listKind: '',
            watchAll: false,
            watchNamespaced: false,
          };
          const clusterList = listOperation(openapi, collectionPath(base));
          const nsList = namespaced
            ? listOperation(openapi, collectionPath(base, 'NS').replace('/namespaces/NS/', '/namespaces/{namespace}/'))
            : undefined;
          const canWatch = r.verbs.includes('watch');
          out.push({
            ...base,
            listKind: listKindOf(clusterList?.op ?? nsList?.op),
            watchAll: canWatch && clusterList !== undefined && takesWatch(openapi, clusterList),
            watchNamespaced: canWatch && nsList !== undefined && takesWatch(openapi, nsList),
            verbs: [...r.verbs].sort(),
          });
        }
      }
    }
  }
  out.sort((a, b) =>
    a.apiVersion === b.apiVersion ? a.kind.localeCompare(b.kind) : compareApiVersions(a.apiVersion, b.apiVersion),
  );
  const seen = new Set<string>();
  for (const r of out) {
    const key = `${r.apiVersion}/${r.kind}`;
    if (seen.has(key)) throw new Error(`two resources of ${key} are served; the registry keys by apiVersion and kind`);
    seen.add(key);
  }
  return out;
}

/** Core (`v1`) first, then groups alphabetically, versions in the server's order of appearance kept stable by name. */
function compareApiVersions(a: string, b: string): number {
  const core = (s: string) => (s.includes('/') ? 1 : 0);
  return core(a) - core(b) || a.localeCompare(b);
}

function listOperation(doc: OpenApiDocument, path: string) {
  const item = doc.paths[path];
  const op = item?.get;
  if (!item || !op || op['x-kubernetes-action'] !== 'list') return undefined;
  return { item, op };
}

function takesWatch(doc: OpenApiDocument, found: { item: { parameters?: OpenApiParameter[] }; op: OpenApiOperation }): boolean {
  const params = [...(found.item.parameters ?? []), ...(found.op.parameters ?? [])];
  return params.some((p) => {
    const resolved = p.$ref ? doc.components?.parameters?.[p.$ref.split('/').pop() ?? ''] : p;
    return resolved?.name === 'watch';
  });
}

function listKindOf(op: OpenApiOperation | undefined): string {
  const ref = op?.responses?.['200']?.content?.['application/json']?.schema?.$ref;
  return ref ? (ref.split('.').pop() ?? '') : '';
}
