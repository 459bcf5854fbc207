import { SelfSubjectRulesReview } from '@kwatch/models/authorization.k8s.io/v1';
import { Node, NodeList, Pod, PodList } from '@kwatch/models/v1';
import { Deployment as DeploymentV1beta1 } from 'kubernetes-models/apps/v1beta1';
import { describe, expect, it } from 'vitest';
import { describeKind, isKwatchError, KindError, watchTarget } from '../src/index.ts';

function thrown(fn: () => unknown): KindError {
  try {
    fn();
  } catch (e) {
    return e as KindError;
  }
  throw new Error('expected a throw');
}

describe('watchTarget at run time (for JavaScript callers and dynamic kinds)', () => {
  it('accepts an item class and its list class as the same watch', () => {
    const a = watchTarget(Pod, { namespace: 'web' });
    const b = watchTarget(PodList, { namespace: 'web' });
    expect(a.info).toBe(b.info);
    expect(a.info).toMatchObject({ apiVersion: 'v1', kind: 'Pod', plural: 'pods', listKind: 'PodList', namespaced: true });
    expect(a.namespace).toBe('web');
  });

  it('watches a cluster-scoped kind without a namespace', () => {
    expect(watchTarget(Node).info.plural).toBe('nodes');
    expect(watchTarget(NodeList).namespace).toBeUndefined();
  });

  it("says Hikaru's words for a namespaced watch of a cluster-scoped kind", () => {
    const e = thrown(() => watchTarget(Node as never, { namespace: 'a' as never }));
    expect(e).toBeInstanceOf(KindError);
    expect(e.code).toBe('NOT_NAMESPACED_WATCHABLE');
    expect(e.message).toBe('Node has no namespaced watcher support');
    expect(isKwatchError(e)).toBe(true);
  });

  it("says Hikaru's words for a kind that cannot be watched at all", () => {
    const e = thrown(() => watchTarget(SelfSubjectRulesReview as never));
    expect(e.code).toBe('NOT_WATCHABLE');
    expect(e.message).toBe('SelfSubjectRulesReview has no watcher support');
  });

  it('names what was given when it is not a kind', () => {
    for (const [value, shown] of [
      [42, 'number 42'],
      ['Pod', 'string "Pod"'],
      [null, 'null'],
      [class Foo {}, 'function Foo'],
      [{ kind: 'Pod' }, 'object Object'],
    ] as const) {
      const e = thrown(() => watchTarget(value as never));
      expect(e.code).toBe('NOT_A_KIND');
      expect(e.message).toBe(
        `Expected a Kubernetes kind (a model class such as Pod, or a resource from defineResource()), got ${shown}`,
      );
    }
  });

  it('rejects a kubernetes-models class for a version Kubernetes 1.36 does not serve', () => {
    const e = thrown(() => describeKind(DeploymentV1beta1));
    expect(e.code).toBe('NOT_WATCHABLE');
    expect(e.message).toMatch(
      /^Deployment has no watcher support: apps\/v1beta1 Deployment is not served by Kubernetes v1\.36\.\d+/,
    );
  });

  it("treats namespace '' as all namespaces, for namespaced and cluster-scoped kinds alike", () => {
    expect(watchTarget(Pod, { namespace: '' }).namespace).toBeUndefined();
    expect(watchTarget(Node, { namespace: '' }).namespace).toBeUndefined();
  });

  it('rejects a namespace that is not a string, naming the option', () => {
    const e = thrown(() => watchTarget(Pod, { namespace: 7 as never }));
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toBe('Expected `namespace` to be a string, got number 7');
  });
});
