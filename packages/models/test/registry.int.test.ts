import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attachControlPlane } from '@kwatch/testenv';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type DiscoveredResource, discoverResources } from '../scripts/discover.ts';
import { generateFrom, packageRoot } from '../scripts/generate.ts';
import { BUILTIN_RESOURCES, describeKind, type KubernetesKind } from '../src/index.ts';

const cp = attachControlPlane(inject('kwatchTestenvState'));
let live: DiscoveredResource[];
beforeAll(async () => {
  live = await discoverResources(cp.kubeConfig);
});

describe('the committed registry', () => {
  it('equals what the live control plane serves, file for file', async () => {
    const generated = await generateFrom(cp.kubeConfig);
    for (const [file, content] of generated.files) {
      expect(readFileSync(join(packageRoot, file), 'utf8'), `${file} is stale: run pnpm --filter @kwatch/models generate`).toBe(
        content,
      );
    }
    const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { exports: unknown };
    expect(pkg.exports).toEqual(generated.exports);
    expect(BUILTIN_RESOURCES.length).toBe(live.length);
  });

  it('puts every kind with the watch verb in Watchables, and only those; namespaced ones in NamespacedWatchables', async () => {
    for (const apiVersion of new Set(live.map((r) => r.apiVersion))) {
      const mod = (await import(`@kwatch/models/${apiVersion}`)) as {
        Watchables: Record<string, KubernetesKind>;
        NamespacedWatchables: Record<string, KubernetesKind>;
      };
      const kindsIn = (set: Record<string, KubernetesKind>) => new Set(Object.values(set).map((k) => describeKind(k).kind));
      const mine = live.filter((r) => r.apiVersion === apiVersion);
      const withWatch = mine.filter((r) => r.verbs.includes('watch'));
      expect(kindsIn(mod.Watchables), apiVersion).toEqual(new Set(withWatch.map((r) => r.kind)));
      expect(kindsIn(mod.NamespacedWatchables), apiVersion).toEqual(
        new Set(withWatch.filter((r) => r.namespaced).map((r) => r.kind)),
      );
      // Each property is the model class (or list class) itself, named after its kind.
      for (const [name, value] of Object.entries(mod.Watchables)) expect(value.kind).toBe(name);
    }
  });
});
