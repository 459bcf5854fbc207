// A kubernetes-models class that costs nothing until used: its name and kind answered at once, the class loaded on use.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Asked of a lazy model, gives its loader: how watch-core reaches the real class without going through the stand-in. */
const LAZY_MODEL = Symbol.for('kwatch.lazyModel');
/** The brand of resource descriptors (descriptor.ts): a model class never has it, so it is answered without loading. */
const DESCRIPTOR = Symbol.for('kwatch.resourceDescriptor');
/** Asked of a lazy model, gives the prototype that decoded objects adopt (see {@link adoptionPrototype}). */
const LAZY_PROTOTYPE = Symbol.for('kwatch.lazyPrototype');

const require = createRequire(import.meta.url);

/**
 * Loads one kubernetes-models module synchronously. kubernetes-models is ESM-only, so its file is found with the
 * `import` conditions and required as ESM (require(esm), Node ≥ 22.12): the module instance is the one `import`
 * gives, so its class is the same class, and `instanceof` holds across both ways in.
 */
function loadModule(specifier: string): Record<string, unknown> {
  let file: string;
  try {
    file = fileURLToPath(import.meta.resolve(specifier));
  } catch {
    // Where import.meta.resolve is unavailable (some test runners), the package's own layout: `<pkg>/<subpath>.js`.
    const root = require.resolve('kubernetes-models/package.json').slice(0, -'package.json'.length);
    file = `${root}${specifier.slice('kubernetes-models/'.length)}.js`;
  }
  return require(file) as Record<string, unknown>;
}

/**
 * A stand-in for the kubernetes-models class `name` of the module `specifier`, typed as that class. It answers
 * `apiVersion`, `kind` and `name` (all a watch needs) without loading anything; `new`, `instanceof`, `is`,
 * `prototype`, `validate` and every other use load the class and its validator once, synchronously, and act on it.
 * What the group/version entry points (`@kwatch/models/v1`) export, so that importing one costs what one kind costs.
 *
 * @example
 * ```ts
 * const Pod = lazyModel<typeof import('kubernetes-models/v1/Pod').Pod>('kubernetes-models/v1/Pod', 'Pod', 'v1', 'Pod');
 * Pod.kind; // 'Pod', nothing loaded
 * new Pod({ metadata: { name: 'web' } }) instanceof Pod; // true: the class is loaded here
 * ```
 */
export function lazyModel<C extends object>(specifier: string, name: string, apiVersion?: string, kind?: string): C {
  let real: C | undefined;
  /** The prototype objects adopted before the class was loaded: its own prototype becomes the class's on load. */
  let placeholder: object | undefined;
  const load = (): C => {
    if (real) return real;
    const value = loadModule(specifier)[name];
    if (typeof value !== 'function') throw new TypeError(`${specifier} has no export ${name}`);
    real = value as C;
    // The target's own `prototype` (non-configurable) becomes the class's, so that it is reported as it is.
    Object.defineProperty(target, 'prototype', { value: (value as { prototype: object }).prototype, writable: false });
    if (placeholder) Object.setPrototypeOf(placeholder, (value as { prototype: object }).prototype);
    return real;
  };
  const adoption = (): object => {
    if (real) return (real as unknown as { prototype: object }).prototype;
    placeholder ??= Object.create(loadingPrototype(() => (load() as unknown as { prototype: object }).prototype));
    return placeholder as object;
  };
  // A named function, so that `typeof` says 'function' and the stand-in can be called with `new`.
  // biome-ignore lint/complexity/useArrowFunction: an arrow function cannot be called with `new`.
  const target = { [name]: function () {} }[name] as unknown as C;
  const stand: C = new Proxy(target, {
    get(_, key, receiver) {
      if (key === 'apiVersion' && apiVersion !== undefined) return apiVersion;
      if (key === 'kind' && kind !== undefined) return kind;
      if (key === 'name') return name;
      // Only the stand-in itself is lazy: a subclass (`class MyPod extends Pod`) that inherits through it is its own
      // class, whose objects are adopted by its own prototype.
      if (key === LAZY_MODEL) return receiver === stand ? load : undefined;
      if (key === LAZY_PROTOTYPE) return receiver === stand ? adoption : undefined;
      if (key === DESCRIPTOR || key === 'then') return undefined;
      const cls = load();
      return Reflect.get(cls, key, cls);
    },
    has: (_, key) => key === LAZY_MODEL || key === LAZY_PROTOTYPE || Reflect.has(load(), key),
    construct: (_, args, newTarget) => {
      const cls = load() as unknown as new (...a: unknown[]) => object;
      return Reflect.construct(cls, args, newTarget === stand ? cls : newTarget);
    },
    apply: (_, self, args) => Reflect.apply(load() as never, self, args),
    getPrototypeOf: () => Reflect.getPrototypeOf(load()),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (t, key) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), key);
      if (!d) return d;
      // The proxy's invariants: a property non-configurable on the target (`prototype`, the class's own once loaded;
      // what was frozen or defined non-configurable, mirrored there) is reported so; any other is reported
      // configurable, which the target cannot contradict.
      return { ...d, configurable: Reflect.getOwnPropertyDescriptor(t, key)?.configurable ?? true };
    },
    // `Object.freeze`, `Object.preventExtensions`, `Object.seal`: done to the class, and mirrored on the target, so
    // that every later answer is one a non-extensible target allows.
    preventExtensions: (t) => {
      const cls = load();
      if (!Reflect.preventExtensions(cls)) return false;
      for (const key of Reflect.ownKeys(cls)) {
        Reflect.defineProperty(t, key, Reflect.getOwnPropertyDescriptor(cls, key) as PropertyDescriptor);
      }
      Reflect.setPrototypeOf(t, Reflect.getPrototypeOf(cls));
      return Reflect.preventExtensions(t);
    },
    // A subclass's static assignment (`MyPod.x = 1`, or a static field compiled without define semantics) reaches
    // here with the subclass as receiver: it lands on the subclass, never on kubernetes-models' class.
    set: (_, key, value, receiver) => {
      const cls = load();
      return Reflect.set(cls, key, value, receiver === stand ? cls : receiver);
    },
    defineProperty: (t, key, d) => {
      const cls = load();
      if (!Reflect.defineProperty(cls, key, d)) return false;
      // A non-configurable property must be one of the target's too (the proxy's invariant): mirrored there.
      const now = Reflect.getOwnPropertyDescriptor(cls, key);
      return now?.configurable === false ? Reflect.defineProperty(t, key, now) : true;
    },
    deleteProperty: (_, key) => Reflect.deleteProperty(load(), key),
  });
  return stand;
}

/**
 * Whether `value` is a {@link lazyModel} stand-in itself (a class extending one is not), without loading anything.
 *
 * @example
 * ```ts
 * isLazyModel(Pod); // true for `Pod` from '@kwatch/models/v1'
 * isLazyModel(class Mine extends Pod {}); // false
 * ```
 */
export function isLazyModel(value: unknown): boolean {
  if (!((typeof value === 'function' || (typeof value === 'object' && value !== null)) && LAZY_MODEL in value)) return false;
  return (value as Record<symbol, unknown>)[LAZY_MODEL] !== undefined;
}

/**
 * The real class behind a {@link lazyModel} stand-in (loading it), or `value` itself when it is not a stand-in.
 *
 * @example
 * ```ts
 * realModel(Pod) === (await import('kubernetes-models/v1/Pod')).Pod; // true
 * ```
 */
export function realModel<T>(value: T): T {
  if ((typeof value === 'function' || (typeof value === 'object' && value !== null)) && LAZY_MODEL in value) {
    const load = (value as unknown as Record<symbol, (() => T) | undefined>)[LAZY_MODEL];
    if (load) return load();
  }
  return value;
}

/**
 * Where decoded objects of `value`'s kind get their prototype, without loading the class: for a {@link lazyModel}
 * stand-in, a function giving, while the class is not loaded, a placeholder whose own prototype loads the class the
 * first time anything is looked up through it (a method such as `validate()` or `toJSON()`, `constructor`,
 * `instanceof`, a property the object does not have) and then becomes the class's prototype, so that the object
 * behaves as an instance from then on; once the class is loaded, its prototype. `undefined` when `value` is not a
 * stand-in.
 *
 * @example
 * ```ts
 * const prototypeOf = adoptionSource(Pod);
 * const pod = Object.setPrototypeOf(JSON.parse(line).object, prototypeOf());
 * pod.metadata.name; // own data: nothing loaded
 * pod instanceof Pod; // true: the class loads here
 * ```
 */
export function adoptionSource(value: unknown): (() => object) | undefined {
  if ((typeof value === 'function' || (typeof value === 'object' && value !== null)) && LAZY_PROTOTYPE in value) {
    return (value as Record<symbol, (() => object) | undefined>)[LAZY_PROTOTYPE];
  }
  return undefined;
}

/**
 * A prototype that stands for the one `load` gives: every lookup that reaches it (a property its objects lack, `in`,
 * a prototype walk, enumeration) loads the class — the caller then replaces this object in the chain — and is
 * answered by the loaded prototype, with the original receiver. `then` is answered `undefined` without loading (no
 * model class has one), so that returning an adopted object from an async function costs nothing.
 */
function loadingPrototype(load: () => object): object {
  return new Proxy(Object.create(null) as object, {
    get: (_, key, receiver) => (key === 'then' ? undefined : Reflect.get(load(), key, receiver)),
    set: (_, key, value, receiver) => Reflect.set(load(), key, value, receiver),
    has: (_, key) => Reflect.has(load(), key),
    // A prototype walk (instanceof, isPrototypeOf) that reaches this object goes on to the loaded prototype.
    getPrototypeOf: () => load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), key);
      return d && { ...d, configurable: true }; // the target has no property the proxy could contradict
    },
  });
}
