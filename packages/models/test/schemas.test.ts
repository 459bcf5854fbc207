// The exported schemas are built on first use and behave as zod schemas; the light checks agree with them.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineResource,
  isKwatchError,
  isStatus,
  ObjectMetaSchema,
  StatusSchema,
  WatchEventEnvelopeSchema,
} from '../src/index.ts';

/** A seeded generator (mulberry32): the same cases on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('the exported schemas, built on first use', () => {
  it('behave as the zod schemas they stand for', () => {
    expect(ObjectMetaSchema).toBeInstanceOf(z.ZodObject);
    expect(StatusSchema.parse({ kind: 'Status', code: 410, extra: 1 })).toEqual({ kind: 'Status', code: 410, extra: 1 });
    expect(StatusSchema.safeParse({ kind: 'Pod' }).success).toBe(false);
    expect(Object.keys(ObjectMetaSchema.shape)).toContain('resourceVersion');
    const CronTab = z.looseObject({ metadata: ObjectMetaSchema, spec: z.object({ cronSpec: z.string() }) });
    expect(CronTab.safeParse({ metadata: { name: 'a' }, spec: { cronSpec: '* * * * *' } }).success).toBe(true);
    expect(CronTab.safeParse({ metadata: { name: 1 }, spec: { cronSpec: '' } }).error?.issues[0]?.path).toEqual([
      'metadata',
      'name',
    ]);
    expect(ObjectMetaSchema.extend({ name: z.string() }).safeParse({}).success).toBe(false);
    expect(WatchEventEnvelopeSchema.parse({ type: 'ADDED', object: { metadata: { name: 'a' } } }).type).toBe('ADDED');
    expect(z.toJSONSchema(StatusSchema)).toMatchObject({ type: 'object', properties: { kind: { const: 'Status' } } });
  });
});

describe('isStatus', () => {
  const values: unknown[] = [
    undefined,
    null,
    0,
    1.5,
    -1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 60,
    '',
    'Status',
    true,
    [],
    {},
    { a: 1 },
  ];
  const pick = (r: () => number) => values[Math.floor(r() * values.length)];
  /** A Status-like object with each field now and then replaced by an edge value. */
  function candidate(r: () => number): unknown {
    const maybe = (good: unknown) => (r() < 0.2 ? pick(r) : r() < 0.3 ? undefined : good);
    const cause = () => maybe({ reason: maybe('FieldValueInvalid'), message: maybe('bad'), field: 'x' });
    return maybe({
      kind: r() < 0.9 ? 'Status' : pick(r),
      apiVersion: maybe('v1'),
      status: maybe('Failure'),
      message: maybe('gone'),
      reason: maybe('Expired'),
      code: maybe(410),
      details: maybe({
        name: maybe('a'),
        kind: maybe('pods'),
        retryAfterSeconds: maybe(1.5),
        // biome-ignore lint/suspicious/noSparseArray: a hole is a cause zod reads as undefined
        causes: maybe(r() < 0.1 ? [cause(), , cause()] : [cause(), cause()]),
      }),
    });
  }

  it('accepts exactly what StatusSchema accepts (10 000 generated cases)', () => {
    const r = random(19);
    let accepted = 0;
    for (let i = 0; i < 10_000; i++) {
      const value = candidate(r);
      const ok = StatusSchema.safeParse(value).success;
      expect([isStatus(value), value]).toEqual([ok, value]);
      if (ok) accepted++;
    }
    expect(accepted).toBeGreaterThan(500); // both sides of the line were tried
  });
});

describe('defineResource, checked without zod', () => {
  // The zod schema it checked every definition against before (the oracle for its messages).
  const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  const Old = z.object({
    group: z.string().regex(dnsSubdomain, "a DNS subdomain such as 'stable.example.com'").or(z.literal('')),
    version: z.string().regex(/^[a-z0-9]+$/, "a version such as 'v1' or 'v1beta1'"),
    kind: z.string().regex(/^[A-Z][A-Za-z0-9]*$/, "a kind in PascalCase such as 'CronTab'"),
    plural: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "a lowercase resource name such as 'crontabs'"),
    namespaced: z.boolean({ error: 'true or false' }),
    listKind: z
      .string()
      .regex(/^[A-Z][A-Za-z0-9]*$/, "a kind in PascalCase such as 'CronTabList'")
      .optional(),
    schema: z.custom<z.ZodType>((v) => v === undefined || v instanceof z.ZodType, 'a zod schema').optional(),
  });
  const oldMessage = (d: unknown): string => {
    const parsed = Old.safeParse(d);
    if (parsed.success) return 'ok';
    const issue = parsed.error.issues[0];
    return `Invalid resource definition: expected \`${issue?.path.join('.') || '(root)'}\` to be ${issue?.message ?? 'valid'}`;
  };
  const newMessage = (d: unknown): string => {
    try {
      defineResource(d as never);
      return 'ok';
    } catch (e) {
      if (!isKwatchError(e) || e.code !== 'INVALID_RESOURCE') throw e;
      return e.message;
    }
  };

  it('refuses what the zod schema refused, in the same words (5 000 generated cases)', () => {
    const r = random(2);
    const edge = ['', 'v1', 'V1', 'a.b', 'a..b', '-a', 'CronTab', 'cronTab', 'crontabs', 'Cron-Tab', 'a_b', 1, true, null];
    const maybe = (good: unknown) => (r() < 0.15 ? edge[Math.floor(r() * edge.length)] : r() < 0.05 ? undefined : good);
    let refused = 0;
    for (let i = 0; i < 5000; i++) {
      const d = {
        group: maybe('stable.example.com'),
        version: maybe('v1'),
        kind: maybe('CronTab'),
        plural: maybe('crontabs'),
        namespaced: maybe(true),
        ...(r() < 0.3 ? { listKind: maybe('CronTabList') } : {}),
        ...(r() < 0.1 ? { schema: r() < 0.5 ? z.object({}) : maybe({}) } : {}),
      };
      const expected = oldMessage(d);
      expect([newMessage(d), d]).toEqual([expected, d]);
      if (expected !== 'ok') refused++;
    }
    expect(refused).toBeGreaterThan(1000);
    for (const d of [null, 5, 'x', []]) expect(newMessage(d)).toBe(oldMessage(d));
  });
});
