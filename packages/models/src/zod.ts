// zod for @kwatch/models, loaded on first use: the exported schemas are built when first read, never at import.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';

/** The `z` namespace of zod. */
export type Zod = typeof z;

let zod: Zod | undefined;

/**
 * zod, loaded synchronously on first call (~15 MB, so never at import). The ESM build is required (require(esm)):
 * its classes are those of `import { z } from 'zod'`. On a Node without require(esm), the CJS build.
 */
export function loadZod(): Zod {
  if (zod) return zod;
  const require = createRequire(import.meta.url);
  let mod: typeof import('zod');
  try {
    mod = require(fileURLToPath(import.meta.resolve('zod'))) as typeof import('zod');
  } catch {
    mod = require('zod') as typeof import('zod');
  }
  zod = mod.z;
  return zod;
}

/**
 * A zod schema built (and zod loaded) on the first read of any of its properties: a stand-in that behaves as the
 * schema (`parse`, `extend`, nesting in other schemas, `instanceof z.ZodType`), for schemas exported as constants.
 */
export function lazySchema<T extends object>(build: (z: Zod) => T): T {
  let real: T | undefined;
  const now = (): T => {
    real ??= build(loadZod());
    return real;
  };
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(now(), key),
    has: (_, key) => Reflect.has(now(), key),
    ownKeys: () => Reflect.ownKeys(now()),
    // Reported configurable: the stand-in's own (empty) target cannot vouch for a non-configurable property.
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(now(), key);
      return d && { ...d, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(now()),
    set: (_, key, value) => Reflect.set(now(), key, value),
    deleteProperty: (_, key) => Reflect.deleteProperty(now(), key),
  });
}
