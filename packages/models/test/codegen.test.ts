import { describe, expect, it } from 'vitest';
import { generate } from '../scripts/codegen.ts';
import type { DiscoveredResource } from '../scripts/discover.ts';

const resource = (kind: string, extra: Partial<DiscoveredResource> = {}): DiscoveredResource => ({
  apiVersion: 'example.k8s.io/v1',
  group: 'example.k8s.io',
  version: 'v1',
  kind,
  listKind: `${kind}List`,
  plural: `${kind.toLowerCase()}s`,
  namespaced: true,
  watchAll: true,
  watchNamespaced: true,
  verbs: ['list', 'watch'],
  ...extra,
});

describe('the generator', () => {
  it('describes a served kind kubernetes-models has no class for, as a generic-object descriptor', () => {
    const out = generate(
      'v1.36.3',
      [resource('Known'), resource('Unknown')],
      new Map([['example.k8s.io/v1', new Set(['Known', 'KnownList'])]]),
    );
    const entry = out.files.get('src/gv/example.k8s.io/v1.ts') ?? '';
    expect(entry).toContain("import { builtinResource } from '../../builtin.ts';");
    expect(entry).toContain("export const Unknown = builtinResource('example.k8s.io/v1', 'Unknown');");
    expect(entry).toContain('export const Watchables = { Known, KnownList, Unknown } as const;');
    const kindMap = out.files.get('src/generated/kindMap.ts') ?? '';
    expect(kindMap).toContain(
      "'example.k8s.io/v1/Unknown': { object: KubernetesObject; namespaced: true; watchAll: true; watchNamespaced: true };",
    );
    expect(kindMap).toContain("'example.k8s.io/v1/Known': { object: m_example_k8s_io_v1.Known;");
    expect(out.withoutClass).toEqual(['example.k8s.io/v1/Unknown']);
  });

  it('a group/version kubernetes-models lacks entirely gets descriptors only, and no re-export', () => {
    const out = generate(
      'v1.36.3',
      [resource('Thing', { namespaced: false, watchNamespaced: false })],
      new Map([['example.k8s.io/v1', undefined]]),
    );
    const entry = out.files.get('src/gv/example.k8s.io/v1.ts') ?? '';
    expect(entry).not.toContain("export * from 'kubernetes-models");
    expect(entry).toContain('export const Watchables = { Thing } as const;');
    expect(entry).toContain('export const NamespacedWatchables = {} as const;');
    expect(out.exports['./example.k8s.io/v1']).toEqual({
      '@kwatch/source': './src/gv/example.k8s.io/v1.ts',
      types: './dist/gv/example.k8s.io/v1.d.ts',
      default: './dist/gv/example.k8s.io/v1.js',
    });
  });

  it('leaves kinds without the watch verb out of Watchables', () => {
    const out = generate(
      'v1.36.3',
      [resource('Review', { watchAll: false, watchNamespaced: false, listKind: '' })],
      new Map([['example.k8s.io/v1', new Set(['Review'])]]),
    );
    expect(out.files.get('src/gv/example.k8s.io/v1.ts')).toContain('export const Watchables = {} as const;');
  });
});
