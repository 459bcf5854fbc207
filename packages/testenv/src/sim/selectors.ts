// Namespace, label and field selectors: which objects a simulated LIST or watch returns.
import type { StoredObject } from './history.ts';

/** A parsed selector term; `op` `exists`/`!exists` take no value. */
interface Term {
  readonly key: string;
  readonly op: '=' | '!=' | 'exists' | '!exists';
  readonly value: string;
}

/**
 * Which objects a LIST or watch returns: a namespace (or all) and optional label and field
 * selectors. Label selectors take `k=v`, `k==v`, `k!=v`, `k` and `!k` terms; field selectors
 * `metadata.name` and `metadata.namespace` with `=`, `==`, `!=`. Anything else is refused
 * (the caller answers 400), never silently ignored.
 *
 * @example
 * ```ts
 * const f = new ObjectFilter('web', 'app=web,tier!=db', 'metadata.name=a');
 * f.matches(object);
 * ```
 */
export class ObjectFilter {
  readonly #namespace: string | undefined;
  readonly #labels: Term[];
  readonly #fields: Term[];

  /** Throws an `Error` whose message says what is unsupported. */
  constructor(namespace: string | undefined, labelSelector: string | null, fieldSelector: string | null) {
    this.#namespace = namespace;
    this.#labels = parse(labelSelector ?? '', true);
    this.#fields = parse(fieldSelector ?? '', false);
    for (const t of this.#fields) {
      if (t.key !== 'metadata.name' && t.key !== 'metadata.namespace') {
        throw new Error(`field label not supported: ${t.key}`);
      }
    }
  }

  /** True when `object` is in the namespace and matches both selectors. */
  matches(object: StoredObject): boolean {
    const meta = object.metadata;
    if (this.#namespace !== undefined && meta.namespace !== this.#namespace) return false;
    const labels = (meta.labels ?? {}) as Record<string, string>;
    const fields: Record<string, string | undefined> = { 'metadata.name': meta.name, 'metadata.namespace': meta.namespace };
    return this.#labels.every((t) => holds(t, labels[t.key])) && this.#fields.every((t) => holds(t, fields[t.key] ?? ''));
  }
}

function holds(term: Term, actual: string | undefined): boolean {
  switch (term.op) {
    case '=':
      return actual === term.value;
    case '!=':
      return actual !== term.value;
    case 'exists':
      return actual !== undefined;
    case '!exists':
      return actual === undefined;
  }
}

function parse(selector: string, labels: boolean): Term[] {
  const terms: Term[] = [];
  for (const raw of selector.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const m = /^([^=!\s]+)\s*(==|=|!=)\s*([^=!\s]*)$/.exec(part);
    if (m) {
      terms.push({ key: m[1]!, op: m[2] === '!=' ? '!=' : '=', value: m[3]! });
    } else if (labels && /^!?[A-Za-z0-9._/-]+$/.test(part)) {
      terms.push(
        part.startsWith('!') ? { key: part.slice(1), op: '!exists', value: '' } : { key: part, op: 'exists', value: '' },
      );
    } else {
      throw new Error(`unable to parse requirement: ${JSON.stringify(part)}`);
    }
  }
  return terms;
}
