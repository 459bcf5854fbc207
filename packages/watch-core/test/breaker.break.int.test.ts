// On the real control plane: a subclass of a lazy stand-in is watched as itself, and what the server takes for a watch.
import { ConfigMap } from '@kwatch/models/v1';
import { describe, expect, it } from 'vitest';
import { KubeClient, readKubeconfig, Watcher } from '../src/index.ts';
import { Collector, cp, createConfigMaps, freshNamespace } from './helpers.ts';

const client = () => new KubeClient({ kubeConfig: readKubeconfig({ path: cp.kubeconfigPath, context: 'admin' }) });

describe('breaking issue 19 on the real control plane', () => {
  it("a Watcher of `class Settings extends ConfigMap` (the stand-in) yields Settings, with the subclass's getters", async () => {
    class Settings extends ConfigMap {
      get size(): number {
        return Object.keys(this.data ?? {}).length;
      }
    }
    const namespace = await freshNamespace('brk');
    await createConfigMaps(namespace, ['a'], { x: '1', y: '2' });
    const watcher = new Watcher(Settings, { namespace, transport: client() });
    const c = new Collector(watcher.stream());
    try {
      await c.until((x) => x.lines.includes('ADDED a'));
      const added = c.items.find((e) => e.type === 'ADDED') as unknown as { object: Settings };
      expect(added.object).toBeInstanceOf(Settings);
      expect(added.object).toBeInstanceOf(ConfigMap);
      expect(added.object.size).toBe(2);
      expect(() => added.object.validate()).not.toThrow();
    } finally {
      watcher.stop();
      await c.done;
    }
  });

  it('the API server streams a watch for `watch=True` / `watch=yes` (so clampWatch must clamp them), lists for `False`', async () => {
    const namespace = await freshNamespace('brk');
    await createConfigMaps(namespace, ['a']);
    const kube = client();
    const first = async (watch: string): Promise<string> => {
      const signal = AbortSignal.timeout(10_000);
      const query = new URLSearchParams({ watch, timeoutSeconds: '1' });
      const body = await kube.stream({ path: `/api/v1/namespaces/${namespace}/configmaps`, query, signal });
      let text = '';
      for await (const chunk of body) text += Buffer.from(chunk).toString();
      return text;
    };
    for (const watch of ['True', 'yes']) {
      const text = await first(watch);
      expect(JSON.parse(text.split('\n')[0] ?? '')).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'a' } } });
    }
    expect(JSON.parse(await first('False'))).toMatchObject({ kind: 'ConfigMapList' });
  });
});
