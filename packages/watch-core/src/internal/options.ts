// How every kwatch constructor validates its options: light rules on the way in; zod, loaded only to word a refusal.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { KwatchError } from './errors.ts';

type Zod = typeof z;

let zod: Zod | undefined;

/**
 * zod, loaded synchronously on first call (never at import: it costs ~15 MB). The ESM build is required
 * (require(esm)), so its classes are those of `import { z } from 'zod'`; on a Node without require(esm), the CJS build.
 */
function loadZod(): Zod {
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

const expect = (what: string) => ({ error: what });

/** The zod schemas of {@link optionSchemas}, built on the first read of one. */
function buildOptionSchemas(z: Zod) {
  return {
    string: z.string(expect('a string')),
    nonEmpty: z.string(expect('a non-empty string')).min(1, expect('a non-empty string')),
    boolean: z.boolean(expect('true or false')),
    positiveInt: z.number(expect('a positive integer')).int(expect('a positive integer')).positive(expect('a positive integer')),
    positiveMs: z.number(expect('a positive number of milliseconds')).positive(expect('a positive number of milliseconds')),
    /** `0` allowed: "at once" (a grace period, a release that may not wait). */
    nonNegativeMs: z.number(expect('a number of milliseconds >= 0')).min(0, expect('a number of milliseconds >= 0')),
    positiveSeconds: z.number(expect('a positive number of seconds')).positive(expect('a positive number of seconds')),
    port: z
      .number(expect('a port number (0 to 65535)'))
      .int(expect('a port number (0 to 65535)'))
      .min(0, expect('a port number (0 to 65535)'))
      .max(65_535, expect('a port number (0 to 65535)')),
    function: z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', 'a function'),
    signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, 'an AbortSignal'),
  } as const;
}

type OptionSchemas = ReturnType<typeof buildOptionSchemas>;
const OPTION_SCHEMA_NAMES = [
  'string',
  'nonEmpty',
  'boolean',
  'positiveInt',
  'positiveMs',
  'nonNegativeMs',
  'positiveSeconds',
  'port',
  'function',
  'signal',
] as const satisfies ReadonlyArray<keyof OptionSchemas>;

let builtOptionSchemas: OptionSchemas | undefined;
const schemasNow = (): OptionSchemas => {
  builtOptionSchemas ??= buildOptionSchemas(loadZod());
  return builtOptionSchemas;
};

/**
 * The pieces options schemas are built of, each with the words of its message ("Expected `x` to be <words>"). zod
 * schemas, built (and zod loaded) on the first read of one: kwatch's own constructors check their options without
 * zod and load it only to word a refusal.
 *
 * @example
 * ```ts
 * const schema = z.strictObject({ concurrency: optionSchemas.positiveInt.optional() });
 * ```
 */
export const optionSchemas: OptionSchemas = Object.freeze(
  Object.defineProperties(
    {},
    Object.fromEntries(
      OPTION_SCHEMA_NAMES.map((name) => [name, { enumerable: true, get: () => schemasNow()[name] }]),
    ) as PropertyDescriptorMap,
  ) as OptionSchemas,
);

/**
 * One option's (or a whole options object's) rule: a light test, and the zod schema that words what is wrong.
 * `accepts` says yes only to a value the schema accepts; it may refuse more (the schema then decides), never less.
 */
export interface OptionRule {
  /** True only for a value the schema accepts. */
  readonly accepts: (value: unknown) => boolean;
  /** The zod schema (zod loaded, the schema built and kept, on the first call). */
  readonly schema: () => z.ZodType;
}

/** A rule whose schema is built on first use. */
function rule(accepts: (value: unknown) => boolean, build: (z: Zod) => z.ZodType): OptionRule {
  let schema: z.ZodType | undefined;
  return {
    accepts,
    schema: () => {
      schema ??= build(loadZod());
      return schema;
    },
  };
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The rules of {@link optionSchemas}' pieces, without zod. */
export const optionRules = {
  string: rule(
    (v) => typeof v === 'string',
    () => optionSchemas.string,
  ),
  nonEmpty: rule(
    (v) => typeof v === 'string' && v.length > 0,
    () => optionSchemas.nonEmpty,
  ),
  boolean: rule(
    (v) => typeof v === 'boolean',
    () => optionSchemas.boolean,
  ),
  positiveInt: rule(
    (v) => Number.isSafeInteger(v) && (v as number) > 0,
    () => optionSchemas.positiveInt,
  ),
  positiveMs: rule(
    (v) => isNumber(v) && v > 0,
    () => optionSchemas.positiveMs,
  ),
  nonNegativeMs: rule(
    (v) => isNumber(v) && v >= 0,
    () => optionSchemas.nonNegativeMs,
  ),
  function: rule(
    (v) => typeof v === 'function',
    () => optionSchemas.function,
  ),
  signal: rule(
    (v) => v instanceof AbortSignal,
    () => optionSchemas.signal,
  ),
} as const;

/** `rule`, or `undefined`. */
export function optionalRule(r: OptionRule): OptionRule {
  return { accepts: (v) => v === undefined || r.accepts(v), schema: () => r.schema().optional() };
}

/** `rule`, or `null`. */
export function nullableRule(r: OptionRule): OptionRule {
  return { accepts: (v) => v === null || r.accepts(v), schema: () => r.schema().nullable() };
}

/** A value `test` accepts, refused as "Expected `x` to be <words>" (zod's `z.custom(test, words)`). */
export function customRule(test: (value: unknown) => boolean, words: string): OptionRule {
  return rule(test, (z) => z.custom(test, words));
}

/** A number passing `test` and zod's `build` (e.g. `(z) => z.number(...).positive(...)`). */
export function numberRule(test: (value: number) => boolean, build: (z: Zod) => z.ZodType): OptionRule {
  return rule((v) => isNumber(v) && test(v), build);
}

/** A value equal to one of `values` (the literals) or a boolean when `booleans`: zod's union of them, `words` its error. */
export function oneOfRule(values: readonly string[], booleans: boolean, words: string): OptionRule {
  return rule(
    (v) => (typeof v === 'string' && values.includes(v)) || (booleans && typeof v === 'boolean'),
    (z) => z.union([...values.map((v) => z.literal(v)), ...(booleans ? [z.boolean()] : [])], { error: words }),
  );
}

/** An array whose every item `item` accepts (zod's `z.array(item, { error: words })`). */
export function arrayRule(item: OptionRule, words: string): OptionRule {
  return rule(
    (v) => {
      if (!Array.isArray(v)) return false;
      // Every index, holes too (zod reads each as `undefined`; `every` would skip them).
      for (let i = 0; i < v.length; i++) if (!item.accepts(v[i])) return false;
      return true;
    },
    (z) => z.array(item.schema(), { error: words }),
  );
}

/** The rules of an options object's keys, in the order their messages are given. */
export type OptionShape = Readonly<Record<string, OptionRule>>;

/** An object with only the keys of `shape`, each accepted by its rule (zod's `z.strictObject`). */
export function strictRule(shape: OptionShape): OptionRule {
  const keys = Object.keys(shape);
  return rule(
    (v) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
      const object = v as Record<string, unknown>;
      // As zod reads it: every enumerable key, inherited ones too, and each rule's key by property access.
      for (const key in object) if (!Object.hasOwn(shape, key)) return false;
      return keys.every((key) => shape[key]?.accepts(object[key]) === true);
    },
    (z) => z.strictObject(Object.fromEntries(keys.map((key) => [key, (shape[key] as OptionRule).schema()]))),
  );
}

/** A value as an options message shows it: short, and never a whole object (it may hold a credential). */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'function') return 'a function';
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  return String(value);
}

function notAnObject(value: unknown, what: string): boolean {
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new KwatchError('INVALID_OPTION', `Expected ${what} to be an object, got ${show(value)}`);
  }
  return false;
}

/**
 * Validates `value` (an options object, `undefined` for none) against `schema`: the parsed value, or a `KwatchError`
 * `INVALID_OPTION` that names the option and what was expected ("Expected \`pageSize\` to be a positive integer, got
 * 0"), or the unknown option ("Unknown option \`pagesize\`"). `what` names the whole ("the watcher options").
 *
 * @example
 * ```ts
 * const o = checkOptions(z.strictObject({ port: optionSchemas.port }), options, 'the health server options');
 * ```
 */
export function checkOptions<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  notAnObject(value, what);
  const result = schema.safeParse(value ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.join('.') ?? '';
  if (issue?.code === 'unrecognized_keys') {
    const where = path ? ` in \`${path}\`` : '';
    throw new KwatchError(
      'INVALID_OPTION',
      `Unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `\`${k}\``).join(', ')}${where}`,
    );
  }
  throw new KwatchError(
    'INVALID_OPTION',
    `Expected \`${path}\` to be ${issue?.message ?? 'valid'}, got ${show((issue as { input?: unknown })?.input)}`,
  );
}

/**
 * {@link checkOptions} by a rule: what the rule accepts passes without zod; anything else is checked by the rule's
 * schema, which gives the same `INVALID_OPTION` message as {@link checkOptions} (or passes it, when the rule was
 * stricter than the schema).
 */
export function checkOptionRule(rule: OptionRule, value: unknown, what: string): void {
  notAnObject(value, what);
  if (rule.accepts(value ?? {})) return;
  checkOptions(rule.schema(), value, what);
}

/**
 * Throws `INVALID_OPTION` naming `name` unless `ok`: for rules between options that a schema of each cannot say.
 *
 * @example
 * ```ts
 * requireOption(o.renewDeadlineSeconds < o.leaseDurationSeconds, 'renewDeadlineSeconds', 'less than `leaseDurationSeconds`', o.renewDeadlineSeconds);
 * ```
 */
export function requireOption(ok: boolean, name: string, expected: string, got: unknown): void {
  if (!ok) throw new KwatchError('INVALID_OPTION', `Expected \`${name}\` to be ${expected}, got ${show(got)}`);
}
