// Custom resources as kinds: defineResource() from a description, resourceFromCRD() from a CRD.
import { createRequire } from 'node:module';
import type { ZodType, z } from 'zod';
import { makeDescriptor, type ResourceDescriptor } from './descriptor.ts';
import { KwatchError } from './errors.ts';
import type { KubernetesObject } from './object.ts';
import { lazySchema } from './zod.ts';

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const versionName = /^[a-z0-9]+$/;
const pascalCase = /^[A-Z][A-Za-z0-9]*$/;
const resourceName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The zod schema of a definition: built (zod loaded) only to word what is wrong with one, or to check a `schema`. */
const DefinitionSchema = lazySchema((z) =>
  z.object({
    group: z.string().regex(dnsSubdomain, "a DNS subdomain such as 'stable.example.com'").or(z.literal('')),
    version: z.string().regex(versionName, "a version such as 'v1' or 'v1beta1'"),
    kind: z.string().regex(pascalCase, "a kind in PascalCase such as 'CronTab'"),
    plural: z.string().regex(resourceName, "a lowercase resource name such as 'crontabs'"),
    namespaced: z.boolean({ error: 'true or false' }),
    listKind: z.string().regex(pascalCase, "a kind in PascalCase such as 'CronTabList'").optional(),
    schema: z.custom<ZodType>((v) => v === undefined || v instanceof z.ZodType, 'a zod schema').optional(),
  }),
);

const matches = (v: unknown, pattern: RegExp): boolean => typeof v === 'string' && pattern.test(v);

/** True only for a definition {@link DefinitionSchema} accepts and that has no `schema` (checked without zod). */
function plainlyValid(d: unknown): boolean {
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return false;
  const { group, version, kind, plural, namespaced, listKind, schema } = d as Record<string, unknown>;
  return (
    (group === '' || matches(group, dnsSubdomain)) &&
    matches(version, versionName) &&
    matches(kind, pascalCase) &&
    matches(plural, resourceName) &&
    typeof namespaced === 'boolean' &&
    (listKind === undefined || matches(listKind, pascalCase)) &&
    schema === undefined
  );
}

/** What {@link defineResource} takes. */
export interface ResourceDefinition<G extends string, V extends string, K extends string, NS extends boolean, S> {
  /** The API group, e.g. `stable.example.com`. */
  readonly group: G;
  /** The version to watch, e.g. `v1`. */
  readonly version: V;
  /** The kind, e.g. `CronTab`. */
  readonly kind: K;
  /** The resource name in URLs, e.g. `crontabs`. */
  readonly plural: string;
  /** Whether objects live in namespaces. */
  readonly namespaced: NS;
  /** The list kind. Default: `${kind}List`. */
  readonly listKind?: string;
  /** A zod schema that validates every object and gives its type. Default: none (objects are {@link KubernetesObject}). */
  readonly schema?: S;
}

function invalid(code: 'INVALID_RESOURCE' | 'INVALID_CRD', error: z.ZodError, what: string): KwatchError {
  const issue = error.issues[0];
  const path = issue?.path.join('.') || '(root)';
  return new KwatchError(code, `Invalid ${what}: expected \`${path}\` to be ${issue?.message ?? 'valid'}`);
}

/**
 * Describes a custom resource so it can be watched like a built-in kind, namespaced ones
 * both within one namespace and across all of them. With a zod `schema`, events carry
 * the schema's type and every object is validated.
 *
 * @example
 * ```ts
 * const CronTab = defineResource({
 *   group: 'stable.example.com', version: 'v1', kind: 'CronTab', plural: 'crontabs', namespaced: true,
 *   schema: z.looseObject({ metadata: ObjectMetaSchema, spec: z.object({ cronSpec: z.string() }) }),
 * });
 * for await (const e of new Watcher(CronTab, { namespace: 'jobs' }).stream()) e.object.spec.cronSpec;
 * ```
 */
export function defineResource<
  const G extends string,
  const V extends string,
  const K extends string,
  const NS extends boolean,
  S extends ZodType = ZodType<KubernetesObject>,
>(definition: ResourceDefinition<G, V, K, NS, S>): ResourceDescriptor<z.output<S>, G extends '' ? V : `${G}/${V}`, K, NS> {
  if (!plainlyValid(definition)) {
    const parsed = DefinitionSchema.safeParse(definition);
    if (!parsed.success) throw invalid('INVALID_RESOURCE', parsed.error, 'resource definition');
  }
  const d = definition;
  const apiVersion = (d.group === '' ? d.version : `${d.group}/${d.version}`) as G extends '' ? V : `${G}/${V}`;
  return makeDescriptor(
    {
      apiVersion,
      group: d.group,
      version: d.version,
      kind: definition.kind,
      listKind: d.listKind ?? `${d.kind}List`,
      plural: d.plural,
      namespaced: definition.namespaced,
      watchAll: true,
      watchNamespaced: d.namespaced,
    },
    definition.schema as ZodType<z.output<S>> | undefined,
  );
}

const CrdSchema = lazySchema((z) =>
  z.looseObject({
    apiVersion: z.literal('apiextensions.k8s.io/v1', { error: "'apiextensions.k8s.io/v1' (v1beta1 CRDs are not supported)" }),
    kind: z.literal('CustomResourceDefinition', { error: "'CustomResourceDefinition'" }),
    spec: z.looseObject({
      group: z.string({ error: 'a string' }),
      names: z.looseObject({
        kind: z.string({ error: 'a string' }),
        plural: z.string({ error: 'a string' }),
        listKind: z.string().optional(),
      }),
      scope: z.enum(['Namespaced', 'Cluster'], { error: "'Namespaced' or 'Cluster'" }),
      versions: z
        .array(z.looseObject({ name: z.string(), served: z.boolean(), storage: z.boolean() }), { error: 'a list of versions' })
        .min(1, 'a non-empty list of versions'),
    }),
  }),
);

/** Options of {@link resourceFromCRD}. */
export interface ResourceFromCrdOptions {
  /** Which of the CRD's versions to watch. Default: its storage version. */
  readonly version?: string;
}

/**
 * Reads an apiextensions.k8s.io/v1 CustomResourceDefinition — YAML text (the first CRD of
 * a multi-document file) or an object — and describes its resource for watching.
 *
 * @example
 * ```ts
 * const CronTab = resourceFromCRD(readFileSync('crontab-crd.yaml', 'utf8'));
 * new Watcher(CronTab); // all namespaces
 * ```
 */
export function resourceFromCRD(
  crd: string | object,
  options: ResourceFromCrdOptions = {},
): ResourceDescriptor<KubernetesObject> {
  let value: unknown = crd;
  if (typeof crd === 'string') {
    // yaml is loaded on the first CRD read, not with the package (~10 MB, ~40 ms).
    const { parseAllDocuments } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    const docs = [...parseAllDocuments(crd)];
    const bad = docs.find((d) => d.errors.length > 0);
    if (bad) throw new KwatchError('INVALID_CRD', `Invalid CRD YAML: ${bad.errors[0]?.message ?? 'cannot parse'}`);
    const objects = docs.map((d) => d.toJS() as unknown);
    value = objects.find((o) => (o as { kind?: unknown } | null)?.kind === 'CustomResourceDefinition') ?? objects[0];
  }
  const parsed = CrdSchema.safeParse(value);
  if (!parsed.success) throw invalid('INVALID_CRD', parsed.error, 'CustomResourceDefinition');
  const { spec } = parsed.data;
  const chosen = options.version ? spec.versions.find((v) => v.name === options.version) : spec.versions.find((v) => v.storage);
  if (!chosen) {
    const served = spec.versions.map((v) => v.name).join(', ');
    throw new KwatchError(
      'INVALID_CRD',
      `CRD ${spec.names.plural}.${spec.group} has no version ${options.version ?? '(storage)'}; it has ${served}`,
    );
  }
  if (!chosen.served) {
    throw new KwatchError('INVALID_CRD', `CRD ${spec.names.plural}.${spec.group} does not serve version ${chosen.name}`);
  }
  return defineResource({
    group: spec.group,
    version: chosen.name,
    kind: spec.names.kind,
    plural: spec.names.plural,
    namespaced: spec.scope === 'Namespaced',
    ...(spec.names.listKind ? { listKind: spec.names.listKind } : {}),
  });
}
