// On the real control plane: informers share one watch per collection, whatever class asked; a subclass's store must
// still hold the subclass's objects.
import { ConfigMap } from '@kwatch/models/v1';
import { describe, expect, it } from 'vitest';
import { InformerFactory, KubeClient, readKubeconfig } from '../src/index.ts';
import { cp, createConfigMaps, freshNamespace } from './helpers.ts';

describe('informers: one watch for a kind and its subclass', () => {
  it("a subclass's store holds the subclass's objects when the base class's store came first", async () => {
    class Settings extends ConfigMap {
      get size(): number {
        return Object.keys(this.data ?? {}).length;
      }
    }
    const namespace = await freshNamespace('brk');
    await createConfigMaps(namespace, ['a'], { x: '1', y: '2' });
    const transport = new KubeClient({ kubeConfig: readKubeconfig({ path: cp.kubeconfigPath, context: 'admin' }) });
    await using informers = new InformerFactory({ transport, graceMs: 100 });
    using base = informers.store(ConfigMap, { namespace });
    await base.synced();
    using sub = informers.store(Settings, { namespace });
    await sub.synced();
    const a = sub.get(namespace, 'a') as unknown as Settings;
    expect(a).toBeInstanceOf(Settings);
    expect(a.size).toBe(2);
  });
});
