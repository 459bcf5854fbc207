import { styleText } from 'node:util';
import type { MultiplexedEvent } from '@kwatch/watch-core';

type Meta = { metadata?: { name?: string; namespace?: string; resourceVersion?: string } };

/** One JSON object per line: type, kind, namespace, name, resourceVersion, and the object. */
export function jsonLine(e: MultiplexedEvent<unknown>): string {
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

const COLOURS = { ADDED: 'green', MODIFIED: 'yellow', DELETED: 'red' } as const;

/** A readable table row; coloured on a terminal. */
export function tableLine(e: MultiplexedEvent<unknown>, colour: boolean): string {
  const meta = (e.object as Meta).metadata ?? {};
  const time = new Date().toISOString().slice(11, 19);
  const type = e.type.padEnd(8);
  const name = `${meta.namespace ? `${meta.namespace}/` : ''}${meta.name ?? ''}`;
  return `${time}  ${colour ? styleText(COLOURS[e.type], type) : type}  ${e.kind.padEnd(22)}  ${name}`;
}

/** The table's header. */
export function tableHeader(): string {
  return `${'TIME'.padEnd(8)}  ${'EVENT'.padEnd(8)}  ${'KIND'.padEnd(22)}  NAME`;
}
