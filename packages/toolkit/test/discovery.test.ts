import { KindError, KubeClient, type KubeRequest } from '@kwatch/watch-core';
import { describe, expect, it } from 'vitest';
import { closeMatches, type DiscoveredResource, Discovery, resolveResourceName } from '../src/index.ts';

const r = (
  group: string,
  version: string,
  kind: string,
  plural: string,
  shortNames: string[] = [],
  preferred = true,
): DiscoveredResource => ({
  group,
  version,
  apiVersion: group ? `${group}/${version}` : version,
  kind,
  plural,
  singular: kind.toLowerCase(),
  shortNames,
  namespaced: true,
  verbs: ['list', 'watch'],
  preferred,
});

// In discovery order: the core group first, a group's preferred version first.
const served = [
  r('', 'v1', 'Pod', 'pods', ['po']),
  r('', 'v1', 'Event', 'events', ['ev']),
  r('apps', 'v1', 'Deployment', 'deployments', ['deploy']),
  r('events.k8s.io', 'v1', 'Event', 'events', ['ev']),
  r('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', ['hpa']),
  r('autoscaling', 'v1', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', ['hpa'], false),
  r('stable.example.com', 'v1', 'CronTab', 'crontabs', ['ct']),
];

describe('resolveResourceName, as kubectl reads a resource name', () => {
  it.each([
    ['pods', 'pods', 'v1'],
    ['pod', 'pods', 'v1'],
    ['po', 'pods', 'v1'],
    ['Pod', 'pods', 'v1'],
    ['deploy', 'deployments', 'apps/v1'],
    ['deployments.apps', 'deployments', 'apps/v1'],
    ['deployment.apps', 'deployments', 'apps/v1'],
    ['Deployment.apps', 'deployments', 'apps/v1'],
    ['deployments.v1.apps', 'deployments', 'apps/v1'],
    ['events', 'events', 'v1'],
    ['events.events.k8s.io', 'events', 'events.k8s.io/v1'],
    ['hpa', 'horizontalpodautoscalers', 'autoscaling/v2'],
    ['horizontalpodautoscalers.v1.autoscaling', 'horizontalpodautoscalers', 'autoscaling/v1'],
    ['crontabs.stable.example.com', 'crontabs', 'stable.example.com/v1'],
    ['ct', 'crontabs', 'stable.example.com/v1'],
    ['crontab.v1.stable.example.com', 'crontabs', 'stable.example.com/v1'],
  ])('%s → %s in %s', (name, plural, apiVersion) => {
    const found = resolveResourceName(name, served);
    expect([found.plural, found.apiVersion]).toEqual([plural, apiVersion]);
  });

  it('an unknown name is a KindError that names close matches', () => {
    expect(() => resolveResourceName('pdos', served)).toThrow(KindError);
    expect(() => resolveResourceName('pdos', served)).toThrow("the server has no resource 'pdos' (did you mean pods?)");
    expect(() => resolveResourceName('deploymnets', served)).toThrow('did you mean deployments.apps?');
    expect(() => resolveResourceName('crontabs.v2.stable.example.com', served)).toThrow(/no resource/);
    expect(closeMatches('zzzzzz', served)).toEqual([]);
  });
});

describe('Discovery on a server without aggregated discovery', () => {
  it('reads /api/v1 and every group version of /apis, preferred versions first', async () => {
    const answers: Record<string, unknown> = {
      '/api': { kind: 'APIVersions', versions: ['v1'] },
      '/apis': {
        kind: 'APIGroupList',
        groups: [
          {
            name: 'autoscaling',
            versions: [{ version: 'v1' }, { version: 'v2' }],
            preferredVersion: { version: 'v2' },
          },
        ],
      },
      '/api/v1': {
        resources: [
          { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['list', 'watch'], shortNames: ['po'] },
          { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
        ],
      },
      '/apis/autoscaling/v1': {
        resources: [
          {
            name: 'horizontalpodautoscalers',
            namespaced: true,
            kind: 'HorizontalPodAutoscaler',
            verbs: ['watch'],
            shortNames: ['hpa'],
          },
        ],
      },
      '/apis/autoscaling/v2': {
        resources: [
          {
            name: 'horizontalpodautoscalers',
            namespaced: true,
            kind: 'HorizontalPodAutoscaler',
            verbs: ['watch'],
            shortNames: ['hpa'],
          },
        ],
      },
    };
    const asked: string[] = [];
    class Legacy extends KubeClient {
      override async request<T>(req: KubeRequest): Promise<T> {
        asked.push(req.path);
        expect(req.signal).toBeInstanceOf(AbortSignal);
        return answers[req.path] as T;
      }
    }
    const discovery = new Discovery(new Legacy());
    const all = await discovery.resources();
    expect(all.map((r) => `${r.apiVersion} ${r.plural}${r.preferred ? ' (preferred)' : ''}`)).toEqual([
      'v1 pods (preferred)',
      'autoscaling/v2 horizontalpodautoscalers (preferred)',
      'autoscaling/v1 horizontalpodautoscalers',
    ]);
    expect((await discovery.resolve('hpa')).apiVersion).toBe('autoscaling/v2');
    expect((await discovery.resolve('po')).singular).toBe('pod');
    expect(asked.sort()).toEqual(['/api', '/api/v1', '/apis', '/apis/autoscaling/v1', '/apis/autoscaling/v2']); // read once
  });
});
