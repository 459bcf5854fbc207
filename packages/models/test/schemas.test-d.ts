// Types: the schemas built on first use keep the zod types users wrote against (parse results, nesting, infer).
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineResource, isStatus, ObjectMetaSchema, type Status, StatusSchema, WatchEventEnvelopeSchema } from '../src/index.ts';

describe('lazy schemas: types', () => {
  it('are the zod schemas they were', () => {
    expectTypeOf(ObjectMetaSchema).toExtend<z.ZodObject>();
    expectTypeOf(StatusSchema.parse({})).toEqualTypeOf<Status>();
    expectTypeOf<Status['code']>().toEqualTypeOf<number | undefined>();
    expectTypeOf(WatchEventEnvelopeSchema.parse({}).object.metadata?.name).toEqualTypeOf<string | undefined>();
    const CronTabSchema = z.looseObject({ metadata: ObjectMetaSchema, spec: z.object({ cronSpec: z.string() }) });
    const CronTab = defineResource({
      group: 'stable.example.com',
      version: 'v1',
      kind: 'CronTab',
      plural: 'crontabs',
      namespaced: true,
      schema: CronTabSchema,
    });
    expectTypeOf<z.output<NonNullable<typeof CronTab.schema>>['spec']['cronSpec']>().toEqualTypeOf<string>();
  });

  it('isStatus narrows to Status', () => {
    const value: unknown = {};
    if (isStatus(value)) expectTypeOf(value).toEqualTypeOf<Status>();
  });
});
