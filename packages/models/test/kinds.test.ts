import { Deployment } from '@kwatch/models/apps/v1';
import { Deployment as FromKind } from '@kwatch/models/apps/v1/Deployment';
import { Pod, PodList } from '@kwatch/models/v1';
import { Pod as PodAlone } from '@kwatch/models/v1/Pod';
import { PodList as PodListAlone } from '@kwatch/models/v1/PodList';
import { describe, expect, expectTypeOf, it } from 'vitest';

describe('one entry point per kind', () => {
  it('is the same class as the group/version entry point gives, and typed the same', () => {
    expect(PodAlone).toBe(Pod);
    expect(PodListAlone).toBe(PodList);
    expect(FromKind).toBe(Deployment);
    expectTypeOf<InstanceType<typeof PodAlone>>().toEqualTypeOf<Pod>();
  });
});
