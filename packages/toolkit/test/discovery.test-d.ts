import type { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kwatch/models';
import { Watcher } from '@kwatch/watch-core';
import { expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { discoverResource } from '../src/index.ts';

declare const kubeConfig: KubeConfig;

it('a kind found at run time is untyped unless a zod schema is given', async () => {
  const Untyped = await discoverResource('crontabs.stable.example.com', { kubeConfig });
  for await (const e of new Watcher(Untyped).stream()) {
    if (e.tombstone) continue;
    const untyped: KubernetesObject = e.object;
    expectTypeOf(untyped.spec).toBeUnknown();
    expectTypeOf(e.object.metadata?.name).toEqualTypeOf<string | undefined>();
    // @ts-expect-error untyped: nothing is known of its spec
    e.object.spec.cronSpec;
  }

  const schema = z.looseObject({ metadata: z.object({ name: z.string() }), spec: z.object({ cronSpec: z.string() }) });
  const Typed = await discoverResource({ apiVersion: 'stable.example.com/v1', kind: 'CronTab' }, { kubeConfig, schema });
  for await (const e of new Watcher(Typed).stream()) {
    if (!e.tombstone) expectTypeOf(e.object.spec.cronSpec).toEqualTypeOf<string>();
  }
});
