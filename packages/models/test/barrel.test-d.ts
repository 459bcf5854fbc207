// What users write with the group/version entry points still compiles, now that their classes are lazy stand-ins.
import type { IPod } from '@kwatch/models/v1';
import { type ConfigMap, Container, Namespace, Pod, type PodList, Watchables } from '@kwatch/models/v1';
import type { Pod as PodAlone } from '@kwatch/models/v1/Pod';
import type { Pod as RealPod, Pod as RealPodClass } from 'kubernetes-models/v1/Pod';
import { describe, expectTypeOf, it } from 'vitest';
import { type WatchedObject, watchTarget } from '../src/index.ts';

describe('the v1 entry point, typed as kubernetes-models', () => {
  it('values and types of the same name, as the classes were', () => {
    const p: Pod = new Pod({ metadata: { name: 'x' } });
    expectTypeOf(p).toEqualTypeOf<RealPod>();
    expectTypeOf<typeof Pod>().toEqualTypeOf<typeof RealPodClass>();
    expectTypeOf<typeof PodAlone>().toEqualTypeOf<typeof Pod>();
    expectTypeOf(Pod.apiVersion).toEqualTypeOf<'v1'>();
    expectTypeOf(Pod.kind).toEqualTypeOf<'Pod'>();
    expectTypeOf(Pod.is).parameter(0).toBeUnknown();
    const i: IPod = { apiVersion: 'v1', kind: 'Pod' };
    expectTypeOf(i).toExtend<IPod>();
    const c: Container = new Container({ name: 'app' });
    expectTypeOf(c.name).toEqualTypeOf<string>();
    const x: unknown = p;
    if (x instanceof Pod) expectTypeOf(x).toEqualTypeOf<RealPod>();
  });

  it('kinds are checked as watch targets as before', () => {
    expectTypeOf(watchTarget(Pod, { namespace: 'web' })).toEqualTypeOf<ReturnType<typeof watchTarget<typeof Pod>>>();
    expectTypeOf<WatchedObject<typeof PodList>>().toEqualTypeOf<RealPod>();
    expectTypeOf<WatchedObject<typeof ConfigMap>>().toEqualTypeOf<ConfigMap>();
    // @ts-expect-error Namespace is cluster-scoped: no namespace
    watchTarget(Namespace, { namespace: 'web' });
    expectTypeOf(Watchables.Pod).toEqualTypeOf<typeof Pod>();
  });
});
