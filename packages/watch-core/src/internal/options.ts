// How every kwatch constructor validates its options: a zod schema, and one message format for what is wrong.
import { z } from 'zod';
import { KwatchError } from './errors.ts';

const expect = (what: string) => ({ error: what });

/**
 * The pieces options schemas are built of, each with the words of its message ("Expected `x` to be <words>").
 *
 * @example
 * ```ts
 * const schema = z.strictObject({ concurrency: optionSchemas.positiveInt.optional() });
 * ```
 */
export const optionSchemas = {
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

/** A value as an options message shows it: short, and never a whole object (it may hold a credential). */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'function') return 'a function';
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  return String(value);
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
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new KwatchError('INVALID_OPTION', `Expected ${what} to be an object, got ${show(value)}`);
  }
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
