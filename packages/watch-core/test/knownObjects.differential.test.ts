// KnownObjects with packed records and no listed-key set on a first sync answers exactly as the plain-object one did.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WatchEventType } from '../src/internal/index.ts';
import { KnownObjects } from '../src/watch/knownObjects.ts';
import { KnownObjects as Reference } from './knownObjectsReference.ts';

type Meta = { name: string; namespace: string; uid: string | undefined; resourceVersion: string | undefined };
type Op =
  | { op: 'observe'; type: WatchEventType; meta: Meta }
  | { op: 'begin' }
  | { op: 'listed'; meta: Meta }
  | { op: 'end' }
  | { op: 'commit'; back: number }
  | { op: 'rollback' }
  | { op: 'hasListed'; meta: Meta };

// Few names, so that keys repeat; uids and resourceVersions that are undefined, empty, long or odd.
const meta: fc.Arbitrary<Meta> = fc.record({
  name: fc.constantFrom('a', 'b', 'c', 'd'),
  namespace: fc.constantFrom('ns', ''),
  uid: fc.option(fc.constantFrom('u1', 'u2', '', 'ü-ñ', '\u0000'), { nil: undefined }),
  resourceVersion: fc.option(fc.oneof(fc.constantFrom('1', '2', '', '10', 'x'.repeat(70)), fc.string({ maxLength: 3 })), {
    nil: undefined,
  }),
});
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('observe' as const), type: fc.constantFrom('ADDED', 'MODIFIED', 'DELETED' as const), meta }),
  fc.constant({ op: 'begin' as const }),
  fc.record({ op: fc.constant('listed' as const), meta }),
  fc.record({ op: fc.constant('listed' as const), meta }),
  fc.constant({ op: 'end' as const }),
  fc.record({ op: fc.constant('commit' as const), back: fc.nat(3) }),
  fc.constant({ op: 'rollback' as const }),
  fc.record({ op: fc.constant('hasListed' as const), meta }),
);

/** What one operation answers, made comparable (the listed object is the same value on both sides). */
function run(k: KnownObjects | Reference, o: Op, object: object): unknown {
  switch (o.op) {
    case 'observe':
      return k.observe(o.type, o.meta);
    case 'begin':
      return k.beginRelist();
    case 'listed':
      return k.listed(object, o.meta);
    case 'end':
      return k.endRelist();
    case 'commit':
      return k.commit(k.seq - o.back);
    case 'rollback':
      return k.rollback();
    case 'hasListed':
      return k.hasListed(`${o.meta.namespace}/${o.meta.name}`);
  }
}

/** A view over a map of identities, as a shared watch's store is. */
function viewOf(held: Map<string, { uid?: string; resourceVersion?: string }>) {
  return { get: (key: string) => held.get(key), keys: () => held.keys() };
}

describe('KnownObjects (packed) against the plain-object reference', () => {
  it('every answer, size, seq and uncommitted count is the same, with and without a view', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.boolean(), (ops, withView) => {
        const held = new Map([['ns/a', { uid: 'u1', resourceVersion: '1' }]]);
        const known = withView ? new KnownObjects(viewOf(held)) : new KnownObjects();
        const reference = withView ? new Reference(viewOf(held)) : new Reference();
        for (const [i, o] of ops.entries()) {
          const object = { i };
          expect(run(known, o, object), `op ${i}: ${JSON.stringify(o)}`).toEqual(run(reference, o, object));
          expect([known.size, known.seq, known.uncommitted, known.listedKeys]).toEqual([
            reference.size,
            reference.seq,
            reference.uncommitted,
            reference.listedKeys,
          ]);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
