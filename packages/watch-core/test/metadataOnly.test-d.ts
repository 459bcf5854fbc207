import { ConfigMap, Pod, PodList } from '@kwatch/models/v1';
import { describe, expectTypeOf, it } from 'vitest';
import { MultiplexingWatcher, type PartialObjectMetadata, Store, Watcher } from '../src/index.ts';

describe('metadata-only watches: the IDE says what the objects are', () => {
  it('new Watcher(Pod, { metadataOnly: true }) yields PartialObjectMetadata, without spec or status', async () => {
    const watcher = new Watcher(Pod, { namespace: 'web', metadataOnly: true });
    expectTypeOf(watcher).toEqualTypeOf<Watcher<typeof Pod, PartialObjectMetadata>>();
    for await (const we of watcher.stream()) {
      if (we.tombstone) continue; // deleted while away: name, namespace, uid, resourceVersion
      expectTypeOf(we.object).toEqualTypeOf<PartialObjectMetadata>();
      expectTypeOf(we.object.metadata.labels).toEqualTypeOf<Record<string, string> | undefined>();
      // @ts-expect-error metadata only: no status
      we.object.status;
    }
    expectTypeOf(new Watcher(PodList, { metadataOnly: true })).toEqualTypeOf<Watcher<typeof PodList, PartialObjectMetadata>>();
  });

  it('without it (or false) the objects are the kind itself, as before', async () => {
    expectTypeOf(new Watcher(Pod)).toEqualTypeOf<Watcher<typeof Pod, Pod>>();
    expectTypeOf(new Watcher(Pod, { metadataOnly: false })).toEqualTypeOf<Watcher<typeof Pod, Pod>>();
    // @ts-expect-error not a boolean
    new Watcher(Pod, { metadataOnly: 'yes' });
    // @ts-expect-error Node-style checks still apply with metadataOnly
    new Watcher(Pod, { metadataOnly: true, namespace: 1 });
  });

  it('a subclass of Watcher keeps the kind and the objects', () => {
    class PodWatcher extends Watcher<typeof Pod> {}
    expectTypeOf(new PodWatcher(Pod).stream()).toEqualTypeOf<ReturnType<Watcher<typeof Pod, Pod>['stream']>>();
  });

  it('a multiplexer and a Store carry the type', async () => {
    const mux = new MultiplexingWatcher({
      watchers: [new Watcher(Pod, { metadataOnly: true }), new Watcher(ConfigMap)],
    });
    for await (const e of mux.stream()) {
      if (e.tombstone) continue;
      if (e.kind === 'Pod') expectTypeOf(e.object).toEqualTypeOf<PartialObjectMetadata>();
      else expectTypeOf(e.object).toEqualTypeOf<ConfigMap>();
    }
    const store = new Store<PartialObjectMetadata>();
    void store.consume(new Watcher(Pod, { metadataOnly: true }).stream({ markers: true }));
    expectTypeOf(store.list()).toEqualTypeOf<PartialObjectMetadata[]>();
  });
});
