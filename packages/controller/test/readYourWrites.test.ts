// Read-your-writes, the pure parts: which object a path names, how resourceVersions order, when the cache holds a write.
import { describe, expect, it } from 'vitest';
import { cacheHolds, compareResourceVersions, ReconcileClient, resourceOfPath } from '../src/controller/readYourWrites.ts';

describe('read-your-writes', () => {
  it.each([
    ['/api/v1/namespaces/web/configmaps/a', { resource: '/configmaps', namespace: 'web', name: 'a' }],
    ['/api/v1/namespaces/web/configmaps/a/status', { resource: '/configmaps', namespace: 'web', name: 'a' }],
    ['/api/v1/namespaces/web/configmaps', { resource: '/configmaps', namespace: 'web', name: undefined }],
    ['/apis/apps/v1/namespaces/web/deployments/d?fieldManager=x', { resource: 'apps/deployments', namespace: 'web', name: 'd' }],
    ['/api/v1/namespaces/web', { resource: '/namespaces', namespace: undefined, name: 'web' }],
    [
      '/apis/rbac.authorization.k8s.io/v1/clusterroles/r',
      { resource: 'rbac.authorization.k8s.io/clusterroles', namespace: undefined, name: 'r' },
    ],
    ['/version', undefined],
    ['/apis/apps', undefined],
  ])('%s names %o', (path, expected) => {
    expect(resourceOfPath(path)).toEqual(expected);
  });

  it('orders decimal resourceVersions numerically, and refuses to order others', () => {
    expect(compareResourceVersions('9', '10')).toBeLessThan(0);
    expect(compareResourceVersions('100', '99')).toBeGreaterThan(0);
    expect(compareResourceVersions('42', '42')).toBe(0);
    expect(compareResourceVersions('18446744073709551616', '18446744073709551615')).toBeGreaterThan(0); // beyond 2^53
    expect(compareResourceVersions('abc', '10')).toBeUndefined();
    expect(compareResourceVersions('abc', 'abc')).toBe(0);
  });

  it('the cache holds a write at its resourceVersion or newer; a removal once gone or replaced by a newer object', () => {
    const write = { resource: '/configmaps', namespace: 'web', name: 'a', resourceVersion: '100', gone: false };
    const at = (rv: string) => ({ metadata: { resourceVersion: rv } });
    expect([cacheHolds(write, at('99')), cacheHolds(write, at('100')), cacheHolds(write, at('101'))]).toEqual([
      false,
      true,
      true,
    ]);
    expect(cacheHolds(write, undefined)).toBe(false);
    expect(cacheHolds(write, at('x'))).toBe(false); // cannot tell: wait (then read from the server)
    const removal = { ...write, gone: true };
    expect([cacheHolds(removal, undefined), cacheHolds(removal, at('100')), cacheHolds(removal, at('101'))]).toEqual([
      true,
      false,
      true,
    ]);
  });

  it('a write that empties the finalizers of an object being deleted is a removal (the server deleted it then)', async () => {
    const answer = (metadata: object) => ({ request: async () => ({ metadata: { name: 'a', namespace: 'web', ...metadata } }) });
    const write = async (method: 'PATCH' | 'DELETE', metadata: object) => {
      const client = new ReconcileClient(answer(metadata) as never);
      await client.request({ method, path: '/api/v1/namespaces/web/configmaps/a', body: {}, signal: AbortSignal.timeout(1000) });
      return client.writes.map((w) => [w.resourceVersion, w.gone]);
    };
    const deleting = { deletionTimestamp: '2025-01-01T00:00:00Z' };
    expect(await write('PATCH', { resourceVersion: '7', ...deleting, finalizers: [] })).toEqual([['7', true]]);
    expect(await write('PATCH', { resourceVersion: '7', ...deleting })).toEqual([['7', true]]);
    expect(await write('PATCH', { resourceVersion: '7', ...deleting, finalizers: ['x/y'] })).toEqual([['7', false]]);
    expect(await write('PATCH', { resourceVersion: '7' })).toEqual([['7', false]]);
    expect(await write('DELETE', { resourceVersion: '7' })).toEqual([['7', true]]);
    expect(await write('DELETE', { resourceVersion: '7', ...deleting, finalizers: ['x/y'] })).toEqual([['7', false]]);
  });
});
