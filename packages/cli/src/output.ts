// How the CLI prints events: table, wide, json, yaml and name, as kubectl's -o does.
import { createRequire } from 'node:module';
import { styleText } from 'node:util';
import type { MultiplexedEvent } from '@kwatch/watch-core';

// yaml is loaded for `-o yaml` only: `--help` and the other formats do not pay for it (~10 MB).
let yaml: typeof import('yaml') | undefined;
function toYaml(value: unknown): string {
  yaml ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.stringify(value);
}

/** The output formats, as kubectl's `-o`. */
export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

type Meta = { metadata?: { name?: string; namespace?: string; resourceVersion?: string; creationTimestamp?: string } };
type Event = MultiplexedEvent<unknown>;

/** One JSON object per line: type, kind, namespace, name, resourceVersion, and the object. */
export function jsonLine(e: Event): string {
  const meta = (e.object as Meta).metadata ?? {};
  return JSON.stringify({
    type: e.type,
    kind: e.kind,
    namespace: meta.namespace,
    name: meta.name,
    resourceVersion: meta.resourceVersion,
    synthetic: e.synthetic,
    object: e.object,
  });
}

/** A YAML document per event (`---` first, the event as a comment), the object as kubectl prints it. */
export function yamlDocument(e: Event): string {
  const meta = (e.object as Meta).metadata ?? {};
  return `---\n# ${e.type} ${e.kind} ${qualifiedName(meta)}${e.tombstone ? ' (gone while away: metadata only)' : ''}\n${toYaml(e.object).trimEnd()}`;
}

/** `kind.group/name`, as `kubectl get -o name`: `pod/web-0`, `deployment.apps/web`. */
export function nameLine(e: Event): string {
  const meta = (e.object as Meta).metadata ?? {};
  const group = (e.watcher as { target?: { info?: { group?: string } } }).target?.info?.group ?? '';
  return `${e.kind.toLowerCase()}${group ? `.${group}` : ''}/${meta.name ?? ''}`;
}

const COLOURS = { ADDED: 'green', MODIFIED: 'yellow', DELETED: 'red' } as const;

/** A readable table row; coloured on a terminal. */
export function tableLine(e: Event, colour: boolean, now = new Date()): string {
  const meta = (e.object as Meta).metadata ?? {};
  const time = now.toISOString().slice(11, 19);
  const type = e.type.padEnd(8);
  return `${time}  ${colour ? styleText(COLOURS[e.type], type) : type}  ${e.kind.padEnd(22)}  ${qualifiedName(meta)}`;
}

const qualifiedName = (meta: NonNullable<Meta['metadata']>): string =>
  `${meta.namespace ? `${meta.namespace}/` : ''}${meta.name ?? ''}`;

/** The table's header (`wide`: with the resourceVersion, the age and a per-kind detail). */
export function tableHeader(wide = false): string {
  const base = `${'TIME'.padEnd(8)}  ${'EVENT'.padEnd(8)}  ${'KIND'.padEnd(22)}  `;
  return wide ? `${base}${'NAME'.padEnd(40)}  ${'RESOURCE-VERSION'.padEnd(16)}  ${'AGE'.padEnd(6)}  DETAIL` : `${base}NAME`;
}

/** A table row with the resourceVersion, the age and a per-kind detail (a pod's phase and node, replicas ready). */
export function wideLine(e: Event, colour: boolean, now = new Date()): string {
  const meta = (e.object as Meta).metadata ?? {};
  const created = meta.creationTimestamp ? Date.parse(meta.creationTimestamp) : Number.NaN;
  const row = tableLine(e, colour, now);
  const pad = ' '.repeat(Math.max(0, 40 - qualifiedName(meta).length));
  return `${row}${pad}  ${(meta.resourceVersion ?? '').padEnd(16)}  ${age(now.getTime() - created).padEnd(6)}  ${detail(e)}`.trimEnd();
}

/** kubectl's short age: 45s, 12m, 3h, 5d. */
export function age(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

function detail(e: Event): string {
  if (e.tombstone) return '(gone while away)';
  const o = e.object as {
    spec?: { nodeName?: string; replicas?: number; type?: string };
    status?: { phase?: string; readyReplicas?: number };
    data?: Record<string, unknown>;
  };
  switch (e.kind) {
    case 'Pod':
      return [o.status?.phase, o.spec?.nodeName ? `node=${o.spec.nodeName}` : ''].filter(Boolean).join(' ');
    case 'Deployment':
    case 'StatefulSet':
    case 'ReplicaSet':
      return `ready ${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`;
    case 'ConfigMap':
    case 'Secret':
      return `${Object.keys(o.data ?? {}).length} keys`;
    case 'Namespace':
      return o.status?.phase ?? '';
    default:
      return '';
  }
}

/** The line (or lines) of one event in `format`. */
export function formatEvent(format: OutputFormat, e: Event, colour: boolean): string {
  switch (format) {
    case 'json':
      return jsonLine(e);
    case 'yaml':
      return yamlDocument(e);
    case 'name':
      return nameLine(e);
    case 'wide':
      return wideLine(e, colour);
    default:
      return tableLine(e, colour);
  }
}
