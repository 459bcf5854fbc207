import { Deployment } from '@kwatch/models/apps/v1';
import { ConfigMap, Pod, PodList } from '@kwatch/models/v1';
import { describe, expectTypeOf, it } from 'vitest';
import { MultiplexingWatcher, Watcher } from '../src/index.ts';

describe('MultiplexingWatcher types', () => {
  it("an event's object narrows by kind", async () => {
    const mux = new MultiplexingWatcher()
      .addWatcher(new Watcher(PodList))
      .addWatcher(new Watcher(ConfigMap))
      .addWatcher(new Watcher(Deployment));
    for await (const e of mux.stream()) {
      expectTypeOf(e.kind).toEqualTypeOf<'Pod' | 'ConfigMap' | 'Deployment'>();
      if (e.kind === 'Pod') expectTypeOf(e.object).toEqualTypeOf<Pod>();
      else if (e.kind === 'ConfigMap') expectTypeOf(e.object).toEqualTypeOf<ConfigMap>();
      else expectTypeOf(e.object).toEqualTypeOf<Deployment>();
    }
  });

  it('an untyped multiplexer still streams (objects are unknown)', async () => {
    const mux = new MultiplexingWatcher();
    mux.addWatcher(new Watcher(Pod));
    for await (const e of mux.stream()) expectTypeOf(e.object).toEqualTypeOf<unknown>();
  });
});
