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
      if (e.tombstone) expectTypeOf(e.object.metadata.name).toEqualTypeOf<string>();
      else if (e.kind === 'Pod') expectTypeOf(e.object).toEqualTypeOf<Pod>();
      else if (e.kind === 'ConfigMap') expectTypeOf(e.object).toEqualTypeOf<ConfigMap>();
      else expectTypeOf(e.object).toEqualTypeOf<Deployment>();
    }
  });

  it('watchers given to the constructor type the events, also with more added in later statements', async () => {
    const mux = new MultiplexingWatcher({
      watchers: [new Watcher(Pod), new Watcher(ConfigMap)],
      exceptionCallback: async () => true,
    });
    mux.addWatcher(new Watcher(Deployment));
    for await (const e of mux.stream()) {
      expectTypeOf(e.kind).toEqualTypeOf<'Pod' | 'ConfigMap'>();
      if (e.tombstone) continue;
      if (e.kind === 'Pod') expectTypeOf(e.object).toEqualTypeOf<Pod>();
      else expectTypeOf(e.object).toEqualTypeOf<ConfigMap>();
    }
  });

  it('an untyped multiplexer still streams (objects are unknown)', async () => {
    const mux = new MultiplexingWatcher();
    mux.addWatcher(new Watcher(Pod));
    for await (const e of mux.stream()) expectTypeOf(e.object).toEqualTypeOf<unknown>();
  });
});
