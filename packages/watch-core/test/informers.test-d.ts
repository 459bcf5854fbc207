import { Node, Pod } from '@kwatch/models/v1';
import { describe, expectTypeOf, it } from 'vitest';
import {
  InformerFactory,
  type PartialObjectMetadata,
  type SharedStore,
  type StoreChange,
  type WatchEvent,
  type WatchMarker,
} from '../src/index.ts';

const informers = new InformerFactory();

describe('InformerFactory: types', () => {
  it('stores and streams are typed by the kind, metadataOnly and markers', () => {
    expectTypeOf(informers.store(Pod, { namespace: 'web' })).toEqualTypeOf<SharedStore<Pod>>();
    expectTypeOf(informers.store(Pod, { metadataOnly: true })).toEqualTypeOf<SharedStore<PartialObjectMetadata>>();
    expectTypeOf(informers.stream(Pod, { namespace: 'web' })).toEqualTypeOf<AsyncGenerator<WatchEvent<Pod>, void, undefined>>();
    expectTypeOf(informers.stream(Node, { markers: true })).toEqualTypeOf<
      AsyncGenerator<WatchEvent<Node> | WatchMarker, void, undefined>
    >();
    expectTypeOf(informers.store(Pod).byIndex('byNode', 'n1')).toEqualTypeOf<Pod[]>();
    expectTypeOf(informers.store(Pod).events()).toEqualTypeOf<AsyncGenerator<StoreChange<Pod>, void, undefined>>();
  });

  it('the index function sees the stored objects; a namespaced informer of a cluster kind does not compile', () => {
    informers.store(Pod).addIndex('byNode', (pod) => {
      expectTypeOf(pod).toEqualTypeOf<Pod>();
      return [pod.spec?.nodeName ?? ''];
    });
    // @ts-expect-error Node has no namespaced watcher support
    informers.store(Node, { namespace: 'web' });
  });

  it('store events: MODIFIED carries the old object, ADDED none', async () => {
    for await (const c of informers.store(Pod).events()) {
      if (c.type === 'MODIFIED') expectTypeOf(c.old).toEqualTypeOf<Pod>();
      if (c.type === 'ADDED') expectTypeOf(c.old).toEqualTypeOf<undefined>();
    }
  });
});
