import { type Deployment, DeploymentList } from '@kwatch/models/apps/v1';
import { SelfSubjectRulesReview } from '@kwatch/models/authorization.k8s.io/v1';
import { Node, NodeList, Pod, PodList } from '@kwatch/models/v1';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  defineResource,
  type KubernetesObject,
  type NamespaceOption,
  resourceFromCRD,
  type WatchedObject,
  type WatchTarget,
  watchTarget,
} from '../src/index.ts';

describe('kinds that can be watched compile, with typed objects', () => {
  it('Pod, PodList, Pod in a namespace, Node', () => {
    expectTypeOf(watchTarget(Pod)).toEqualTypeOf<WatchTarget<Pod>>();
    expectTypeOf(watchTarget(PodList)).toEqualTypeOf<WatchTarget<Pod>>();
    expectTypeOf(watchTarget(Pod, { namespace: 'a' })).toEqualTypeOf<WatchTarget<Pod>>();
    expectTypeOf(watchTarget(Node)).toEqualTypeOf<WatchTarget<Node>>();
    expectTypeOf(watchTarget(NodeList)).toEqualTypeOf<WatchTarget<Node>>();
    expectTypeOf(watchTarget(DeploymentList, { namespace: 'a' })).toEqualTypeOf<WatchTarget<Deployment>>();
  });

  it("'' is all namespaces, allowed for every kind", () => {
    expectTypeOf(watchTarget(Node, { namespace: '' })).toEqualTypeOf<WatchTarget<Node>>();
  });

  it('a list class watches its items', () => {
    expectTypeOf<WatchedObject<typeof PodList>>().toEqualTypeOf<Pod>();
    expectTypeOf<WatchedObject<typeof Pod>>().toEqualTypeOf<Pod>();
  });

  it('a namespace variable of type string is fine for namespaced kinds', () => {
    const ns: string = 'web';
    expectTypeOf(watchTarget(Pod, { namespace: ns })).toEqualTypeOf<WatchTarget<Pod>>();
    expectTypeOf<NamespaceOption<typeof Pod>>().toEqualTypeOf<string>();
  });
});

describe('kinds that cannot be watched that way are type errors', () => {
  it('Node in a namespace', () => {
    // @ts-expect-error Node has no namespaced watcher support
    watchTarget(Node, { namespace: 'a' });
    // @ts-expect-error NodeList has no namespaced watcher support
    watchTarget(NodeList, { namespace: 'a' });
    const ns: string = 'web';
    // @ts-expect-error a string variable is not allowed either
    watchTarget(Node, { namespace: ns });
    expectTypeOf<NamespaceOption<typeof Node>>().toEqualTypeOf<'' | 'Node has no namespaced watcher support'>();
  });

  it('SelfSubjectRulesReview at all', () => {
    // @ts-expect-error SelfSubjectRulesReview has no watcher support
    watchTarget(SelfSubjectRulesReview);
  });

  it('values that are not kinds', () => {
    // @ts-expect-error not a kind
    watchTarget(42);
    // @ts-expect-error not a kind
    watchTarget('Pod');
    // @ts-expect-error not a kind
    watchTarget(class Foo {});
  });
});

describe('custom resources', () => {
  const CronTab = defineResource({
    group: 'stable.example.com',
    version: 'v1',
    kind: 'CronTab',
    plural: 'crontabs',
    namespaced: true,
    schema: z.object({ metadata: z.object({ name: z.string() }), spec: z.object({ cronSpec: z.string() }) }),
  });
  const Cluster = defineResource({ group: 'x.example.com', version: 'v1', kind: 'Thing', plural: 'things', namespaced: false });

  it('the schema types the objects; namespaced ones take a namespace or none', () => {
    expectTypeOf(watchTarget(CronTab, { namespace: 'jobs' })).toEqualTypeOf<
      WatchTarget<{ metadata: { name: string }; spec: { cronSpec: string } }>
    >();
    expectTypeOf(watchTarget(CronTab).info.plural).toEqualTypeOf<string>();
    expectTypeOf(CronTab.apiVersion).toEqualTypeOf<'stable.example.com/v1'>();
  });

  it('without a schema, objects are KubernetesObject; cluster-scoped ones refuse a namespace', () => {
    expectTypeOf(watchTarget(Cluster)).toEqualTypeOf<WatchTarget<KubernetesObject>>();
    // @ts-expect-error Thing has no namespaced watcher support
    watchTarget(Cluster, { namespace: 'a' });
  });

  it('a CRD read at run time allows a namespace (checked at run time)', () => {
    const FromCrd = resourceFromCRD('...');
    expectTypeOf(watchTarget(FromCrd, { namespace: 'a' })).toEqualTypeOf<WatchTarget<KubernetesObject>>();
  });
});
