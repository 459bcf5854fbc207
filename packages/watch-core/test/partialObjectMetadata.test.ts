// Metadata-only objects: asPartialObjectMetadata() gives a decoded object its resource's kind and apiVersion.
import { describe, expect, it } from 'vitest';
import { asPartialObjectMetadata, type PartialObjectMetadata } from '../src/internal/partialObjectMetadata.ts';

describe('asPartialObjectMetadata', () => {
  it('sets the watched kind and apiVersion in place (the server says PartialObjectMetadata), keeping the metadata', () => {
    const raw: Record<string, unknown> = {
      apiVersion: 'meta.k8s.io/v1',
      kind: 'PartialObjectMetadata',
      metadata: { name: 'web', namespace: 'ns', labels: { app: 'web' } },
    };
    const out = asPartialObjectMetadata<PartialObjectMetadata>(raw, 'Deployment', 'apps/v1');
    expect(out).toBe(raw);
    expect(out).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'ns', labels: { app: 'web' } },
    });
  });

  it('gives an object without metadata an empty one', () => {
    expect(asPartialObjectMetadata<PartialObjectMetadata>({}, 'Pod', 'v1')).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {},
    });
  });
});
