// Object identity for every layer: the one key function, the one diff (changeOf) and the one tombstone builder.
import { describe, expect, it } from 'vitest';
import { changeBetween, changeOf, keyOf, splitKey, tombstoneOf } from '../src/internal/objects.ts';

const o = (uid: string | undefined, resourceVersion: string | undefined) => ({ metadata: { uid, resourceVersion } });

describe('changeOf', () => {
  it('tells nothing, ADDED, MODIFIED, DELETED and a recreate (a new uid under the same key) apart', () => {
    const a = o('u1', '5');
    expect(changeOf(undefined, undefined)).toBe('none');
    expect(changeOf(a, a)).toBe('none');
    expect(changeOf(a, o('u1', '5'))).toBe('none'); // the same version, another copy
    expect(changeOf(undefined, a)).toBe('added');
    expect(changeOf(a, undefined)).toBe('deleted');
    expect(changeOf(a, o('u1', '6'))).toBe('modified');
    expect(changeOf(a, o('u2', '7'))).toBe('recreated');
  });

  it('objects without a resourceVersion (fed by hand) differ unless they are the same object', () => {
    expect(changeOf({ metadata: {} }, { metadata: {} })).toBe('modified');
    expect(changeOf({}, {})).toBe('modified');
  });
});

describe('tombstoneOf', () => {
  it('keeps the identity and version of what was held, nothing of its content', () => {
    const held = { metadata: { name: 'a', namespace: 'ns', uid: 'u1', resourceVersion: '5' }, data: { secret: 'x' } };
    expect(tombstoneOf({ apiVersion: 'v1', kind: 'ConfigMap' }, 'ns/a', held.metadata)).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: 'ns', uid: 'u1', resourceVersion: '5' },
    });
    expect(tombstoneOf({ apiVersion: 'v1', kind: 'Node' }, '/n1', {})).toEqual({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1' },
    });
  });
});

describe('changeBetween (identities) and the key function', () => {
  it('decides as changeOf does, from identities alone; undefined is "nothing held" or "nothing exists"', () => {
    expect(changeBetween(undefined, undefined)).toBe('none');
    expect(changeBetween(undefined, { uid: 'u1', resourceVersion: '1' })).toBe('added');
    expect(changeBetween({ uid: 'u1', resourceVersion: '1' }, undefined)).toBe('deleted');
    expect(changeBetween({ uid: 'u1', resourceVersion: '1' }, { uid: 'u1', resourceVersion: '1' })).toBe('none');
    expect(changeBetween({ uid: 'u1', resourceVersion: '1' }, { uid: 'u1', resourceVersion: '2' })).toBe('modified');
    expect(changeBetween({ uid: 'u1', resourceVersion: '1' }, { uid: 'u2', resourceVersion: '1' })).toBe('recreated');
    expect(changeBetween({ uid: 'u1' }, { uid: 'u1' })).toBe('modified'); // no known version: not provably the same
  });

  it('keyOf and splitKey round-trip, names with a slash included', () => {
    for (const meta of [{ namespace: 'ns', name: 'a' }, { name: 'node-1' }, { namespace: 'ns', name: 'a/b' }]) {
      const { namespace, name } = splitKey(keyOf(meta));
      expect({ namespace, name }).toEqual({ namespace: meta.namespace, name: meta.name });
    }
  });
});
