// Turning parsed JSON into a kind's objects: its kubernetes-models class, or a check by its schema.
import { isResourceDescriptor } from './descriptor.ts';
import { DecodeError } from './errors.ts';
import type { KubernetesKind } from './kinds.ts';
import { adoptionSource, realModel } from './lazyModel.ts';
import type { WatchTarget } from './lookup.ts';

type ModelClass = (new (...args: never[]) => object) & KubernetesKind;
const classCache = new Map<string, Promise<ModelClass | undefined>>();

/**
 * The kubernetes-models class of a target's objects: the kind itself when it is the item
 * class (the real class behind a lazy stand-in), else (for a list class) the item class, loaded once from
 * kubernetes-models.
 * `undefined` for descriptors (their objects stay plain).
 */
export function modelClassFor(target: WatchTarget<unknown>): Promise<ModelClass | undefined> {
  const { kind, info } = target;
  if (isResourceDescriptor(kind)) return Promise.resolve(undefined);
  const value: unknown = kind;
  if (typeof value === 'function' && kind.kind === info.kind && kind.apiVersion === info.apiVersion) {
    // A lazy stand-in (the group/version and per-kind entry points) gives its real class: events are adopted by
    // the class itself, with no proxy on the path of each event.
    return Promise.resolve(realModel(value) as ModelClass);
  }
  const key = `${info.apiVersion}/${info.kind}`;
  let found = classCache.get(key);
  if (!found) {
    // The kind's own module: the group-version barrel would load every class of it (~70 MB for v1).
    const load = (path: string) =>
      import(/* @vite-ignore */ path).then((mod: Record<string, unknown>) => mod[info.kind] as ModelClass | undefined);
    found = load(`kubernetes-models/${info.apiVersion}/${info.kind}`)
      .catch(() => load(`kubernetes-models/${info.apiVersion}`))
      .catch(() => undefined);
    classCache.set(key, found);
  }
  return found;
}

/** What {@link adoptObject} needs of a class: the prototype its objects adopt (a getter may give it per object). */
export interface Adopter {
  readonly prototype: object;
}

/**
 * How decoded objects of a target get their prototype, without loading a lazy stand-in's class: the stand-in's
 * adoption prototype (objects behave as instances; the class and its validator load on the first lookup through
 * it, `instanceof`, `validate()`, `toJSON()`...), else what {@link modelClassFor} gives. `undefined` for descriptors.
 *
 * @example
 * ```ts
 * const adopter = await modelAdopterFor(watchTarget(Pod)); // nothing loaded
 * const pod = adoptObject<Pod>(JSON.parse(line).object, adopter, undefined);
 * pod instanceof Pod; // true: kubernetes-models' Pod loads here
 * ```
 */
export function modelAdopterFor(target: WatchTarget<unknown>): Promise<Adopter | undefined> {
  const { kind, info } = target;
  const source = isResourceDescriptor(kind) ? undefined : adoptionSource(kind);
  if (source && kind.kind === info.kind && kind.apiVersion === info.apiVersion) {
    return Promise.resolve({
      get prototype() {
        return source();
      },
    });
  }
  return modelClassFor(target);
}

/**
 * Makes one decoded object of the target's kind. A model class adopts the parsed JSON in
 * place (its prototype is set; nothing is copied, every field the server sent is kept,
 * timestamps stay strings), so `instanceof Pod` holds at the cost of one pointer write.
 * A descriptor with a schema validates the object; a failure is a `DecodeError` `SCHEMA_MISMATCH`.
 *
 * @example
 * ```ts
 * const pod = adoptObject(JSON.parse(line).object, Pod, undefined); // pod instanceof Pod
 * ```
 */
export function adoptObject<T>(raw: object, cls: Adopter | undefined, schema: WatchTarget<T>['schema']): T {
  if (schema) {
    const result = schema.safeParse(raw);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new DecodeError(
        'SCHEMA_MISMATCH',
        `Object does not match the resource's schema: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
        { cause: result.error },
      );
    }
    return result.data;
  }
  if (cls) Object.setPrototypeOf(raw, cls.prototype);
  return raw as T;
}
