import { defineResource } from '@kwatch/models';
import { SelfSubjectRulesReview } from '@kwatch/models/authorization.k8s.io/v1';
import { Node, NodeList, Pod, PodList } from '@kwatch/models/v1';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { type ObjectEvent, type Tombstone, type WatchEvent, Watcher, type WatchMarker } from '../src/index.ts';

describe('new Watcher: compile-time checks', () => {
  it('compiles for watchable kinds, and types the events', () => {
    expectTypeOf(new Watcher(Pod).stream()).toEqualTypeOf<AsyncGenerator<WatchEvent<Pod>, void, undefined>>();
    expectTypeOf(new Watcher(PodList).stream()).toEqualTypeOf<AsyncGenerator<WatchEvent<Pod>, void, undefined>>();
    expectTypeOf(new Watcher(Pod, { namespace: 'a' }).target.namespace).toEqualTypeOf<string | undefined>();
    expectTypeOf(new Watcher(Node).stream()).toEqualTypeOf<AsyncGenerator<WatchEvent<Node>, void, undefined>>();
    expectTypeOf(new Watcher(NodeList).stream({ markers: true })).toEqualTypeOf<
      AsyncGenerator<WatchEvent<Node> | WatchMarker, void, undefined>
    >();
  });

  it('the README loop compiles as written', async () => {
    const watcher = new Watcher(Pod, { namespace: 'web' });
    for await (const we of watcher.stream()) {
      expectTypeOf(we.type).toEqualTypeOf<'ADDED' | 'MODIFIED' | 'DELETED'>();
      expectTypeOf(we.object.metadata?.name).toEqualTypeOf<string | undefined>();
      expectTypeOf(we.obj).toEqualTypeOf<Pod | Tombstone<Pod>>();
    }
  });

  it('tombstones are typed honestly: a DELETED may carry metadata only, narrowed by `tombstone`', async () => {
    for await (const we of new Watcher(Pod).stream()) {
      // @ts-expect-error a tombstone has no status
      we.object.status;
      if (we.tombstone) {
        expectTypeOf(we.type).toEqualTypeOf<'DELETED'>();
        expectTypeOf(we.object).toEqualTypeOf<Tombstone<Pod>>();
        expectTypeOf(we.object.metadata.name).toEqualTypeOf<string>();
        expectTypeOf(we.object.kind).toEqualTypeOf<'Pod'>();
      } else {
        expectTypeOf(we.object).toEqualTypeOf<Pod>();
      }
    }
  });

  it('unmanaged streams never resync, so their events carry whole objects', () => {
    expectTypeOf(new Watcher(Pod).stream({ manageResourceVersion: false })).toEqualTypeOf<
      AsyncGenerator<ObjectEvent<Pod>, void, undefined>
    >();
    expectTypeOf(new Watcher(Pod).stream({ manageResourceVersion: false, markers: true })).toEqualTypeOf<
      AsyncGenerator<ObjectEvent<Pod> | WatchMarker, void, undefined>
    >();
  });

  it('timeoutSeconds takes 0 and null (no timeout), as Hikaru does', () => {
    new Watcher(Pod, { timeoutSeconds: 0 });
    new Watcher(Pod, { timeoutSeconds: null });
  });

  it('refuses what cannot be watched', () => {
    // @ts-expect-error Node has no namespaced watcher support
    new Watcher(Node, { namespace: 'a' });
    // @ts-expect-error SelfSubjectRulesReview has no watcher support
    new Watcher(SelfSubjectRulesReview);
    // @ts-expect-error not a kind
    new Watcher(42);
    // @ts-expect-error not an option
    new Watcher(Pod, { timeoutSeconds: '5' });
  });

  it('custom resources carry their schema type', () => {
    const CronTab = defineResource({
      group: 'stable.example.com',
      version: 'v1',
      kind: 'CronTab',
      plural: 'crontabs',
      namespaced: true,
      schema: z.object({ spec: z.object({ cronSpec: z.string() }) }),
    });
    expectTypeOf(new Watcher(CronTab, { namespace: 'jobs' }).stream()).toEqualTypeOf<
      AsyncGenerator<WatchEvent<{ spec: { cronSpec: string } }>, void, undefined>
    >();
  });
});
