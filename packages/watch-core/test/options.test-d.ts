// Types: optionSchemas, built on first use, keeps the zod types toolkit and users build their schemas of.
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { checkOptions, optionSchemas } from '../src/index.ts';

describe('optionSchemas: types', () => {
  it('are zod schemas of their values', () => {
    expectTypeOf(optionSchemas.positiveInt).toEqualTypeOf<z.ZodNumber>();
    expectTypeOf(optionSchemas.signal).toExtend<z.ZodType<AbortSignal>>();
    const schema = z.strictObject({ concurrency: optionSchemas.positiveInt.optional(), chain: optionSchemas.boolean });
    expectTypeOf(checkOptions(schema, {}, 'the options')).toEqualTypeOf<{ concurrency?: number | undefined; chain: boolean }>();
  });
});
