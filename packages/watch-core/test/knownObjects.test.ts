// KnownObjects: the relist diff (added, modified, recreated, vanished) and its journal, alone and through a Watcher.
import { ConfigMap } from '@kwatch/models/v1';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Watcher } from '../src/index.ts';
import { keyOf, splitKey } from '../src/internal/objects.ts';
import { KnownObjects } from '../src/watch/knownObjects.ts';
import { type Any, pull, pullMany, show, world } from './simWorld.ts';

const meta = (name: string, uid = `u-${name}`, resourceVersion = '1') => ({ name, namespace: 'ns', uid, resourceVersion });
const object = (name: string) => ({ metadata: { name } });

/** The diff a relist of exactly `listed` gives against `known`, as `TYPE name` lines (the memory keeps what it says). */
function relist(known: KnownObjects, listed: ReturnType<typeof meta>[]): string[] {
  known.beginRelist();
  const diffs = [...listed.flatMap((m) => known.listed(object(m.name), m)), ...known.endRelist()];
  return diffs.map(
    (d) => `${d.type} ${d.type === 'DELETED' ? d.key : (d.object as { metadata: { name: string } }).metadata.name}`,
  );
}

describe('KnownObjects', () => {
  it('a relist diff: new objects ADDED, changed MODIFIED, unchanged nothing, recreated DELETED then ADDED, vanished DELETED', () => {
    const known = new KnownObjects();
    for (const name of ['same', 'changed', 'recreated', 'vanished']) known.observe('ADDED', meta(name));
    known.commit(known.seq);
    known.beginRelist();
    expect(known.listed(object('same'), meta('same'))).toEqual([]);
    expect(known.listed(object('changed'), meta('changed', 'u-changed', '2'))).toMatchObject([{ type: 'MODIFIED' }]);
    expect(known.listed(object('recreated'), meta('recreated', 'u-new'))).toMatchObject([
      { type: 'DELETED', key: 'ns/recreated', known: { uid: 'u-recreated', resourceVersion: '1' } },
      { type: 'ADDED', object: object('recreated') },
    ]);
    expect(known.listed(object('new'), meta('new'))).toMatchObject([{ type: 'ADDED', object: object('new') }]);
    expect(known.endRelist()).toMatchObject([{ type: 'DELETED', key: 'ns/vanished', known: { uid: 'u-vanished' } }]);
    expect(known.size).toBe(4);
    expect(relist(known, [meta('same'), meta('changed', 'u-changed', '2'), meta('recreated', 'u-new'), meta('new')])).toEqual([]);
  });

  it('observe() follows the server: ADDED and MODIFIED remember the identity and resourceVersion, DELETED forgets', () => {
    const known = new KnownObjects();
    known.observe('ADDED', meta('a'));
    known.observe('ADDED', meta('b'));
    known.observe('MODIFIED', meta('a', 'u-a', '2'));
    known.observe('DELETED', meta('b', 'u-b', '3'));
    expect(known.size).toBe(1);
    expect(relist(known, [meta('a', 'u-a', '2'), meta('b')])).toEqual(['ADDED b']);
  });

  it('commit(seq) keeps every change up to seq; rollback() undoes the rest, newest first', () => {
    const known = new KnownObjects();
    known.observe('ADDED', meta('a'));
    const taken = known.seq;
    known.observe('MODIFIED', meta('a', 'u-a', '2'));
    known.observe('ADDED', meta('b'));
    known.observe('DELETED', meta('a'));
    known.commit(taken);
    expect(known.uncommitted).toBe(3);
    known.rollback();
    expect([known.size, known.uncommitted]).toEqual([1, 0]);
    expect(relist(known, [meta('a')])).toEqual([]); // a as taken (resourceVersion 1), no b
    known.commit(taken); // an old sequence number commits nothing more, and undoes nothing
    expect(known.size).toBe(1);
  });

  it('a recreate is two changes: taking only its DELETED half remembers only the deletion', () => {
    const known = new KnownObjects();
    known.observe('ADDED', meta('a'));
    known.commit(known.seq);
    known.beginRelist();
    const [deleted] = known.listed(object('a'), meta('a', 'u-new'));
    known.commit(deleted?.seq ?? Number.NaN);
    known.rollback();
    expect(known.size).toBe(0);
    expect(relist(known, [meta('a', 'u-new')])).toEqual(['ADDED a']);
  });

  it('taking 2,000 of 3,000 changes compacts the journal; a rollback then undoes exactly the 1,000 not taken', () => {
    const known = new KnownObjects();
    const seqs: number[] = [];
    for (let i = 0; i < 3000; i++) {
      known.observe('ADDED', meta(`o${i}`));
      seqs.push(known.seq);
    }
    known.commit(seqs[1999] as number);
    expect(known.uncommitted).toBe(1000);
    known.commit(seqs[999] as number); // behind what is committed: nothing changes
    expect(known.uncommitted).toBe(1000);
    known.rollback();
    expect(known.size).toBe(2000);
    expect(relist(known, [meta('o0'), meta('o2000')]).sort()).toEqual([
      'ADDED o2000',
      ...Array.from({ length: 1999 }, (_, i) => `DELETED ns/o${i + 1}`).sort(),
    ]);
  });

  it('keyOf and splitKey: `namespace/name`, and `/name` when cluster-scoped', () => {
    expect(keyOf({ namespace: 'ns', name: 'a' })).toBe('ns/a');
    expect(keyOf({ name: 'node-1' })).toBe('/node-1');
    expect(splitKey('ns/a')).toEqual({ namespace: 'ns', name: 'a' });
    expect(splitKey('/node-1')).toEqual({ namespace: undefined, name: 'node-1' });
    expect(splitKey(keyOf({ namespace: 'ns', name: 'a/b' }))).toEqual({ namespace: 'ns', name: 'a/b' });
  });
});

describe('KnownObjects through a Watcher: resyncs and tombstones', () => {
  it('a recreate found by a resync, interrupted right after its DELETED half: the next stream delivers the new object, not the tombstone again', async () => {
    const { clock, sim } = world(['a', 'b']);
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim, clock });
    const s1 = w.stream({ markers: true });
    expect(await pullMany(s1, clock, 3)).toEqual(['ADDED a', 'ADDED b', 'SYNCED']);
    await s1.return(undefined);
    const oldUid = sim.get('configmaps', 'ns/a')?.metadata.uid;
    sim.delete('configmaps', 'ns/a');
    const recreated = sim.create('configmaps', { metadata: { name: 'a', namespace: 'ns' } });
    sim.compact();
    const s2 = w.stream({ markers: true });
    const r1 = await pull(s2, clock);
    expect(show(r1.value)).toBe('RESYNC');
    const tomb = (await pull(s2, clock)).value;
    expect(show(tomb)).toBe('DELETED a (tombstone)');
    expect(tomb.object.metadata.uid).toBe(oldUid);
    await s2.return(undefined); // took only the DELETED half
    const s3 = w.stream({ markers: true });
    const items: Any[] = [];
    for (;;) {
      const r = await pull(s3, clock);
      items.push(r.value);
      if (r.value.type === 'SYNCED') break;
    }
    expect(items.map(show)).toEqual(['RESYNC', 'ADDED a', 'SYNCED']);
    expect(items[1].object.metadata.uid).toBe(recreated.metadata.uid);
    await s3.return(undefined);
  });

  it('a break inside the initial sync by LIST pages: the rest once, then SYNCED; vanished objects come as tombstones', async () => {
    const { clock, sim } = world(['a', 'b', 'c', 'd']);
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim, clock, watchList: false, pageSize: 2 });
    const s1 = w.stream({ markers: true });
    expect(await pullMany(s1, clock, 3)).toEqual(['ADDED a', 'ADDED b', 'ADDED c']);
    await s1.return(undefined);
    expect(w.currentResourceVersion()).toBeUndefined();
    sim.delete('configmaps', 'ns/b');
    sim.update('configmaps', 'ns/d', { data: { v: '2' } });
    const s2 = w.stream({ markers: true });
    expect(await pullMany(s2, clock, 10, (l) => l === 'SYNCED')).toEqual(['ADDED d', 'DELETED b (tombstone)', 'SYNCED']);
    await s2.return(undefined);
  });
});

describe('KnownObjects through a Watcher: the journal', () => {
  it('a 3000-event chunk, 2000 taken (past the journal compaction), then break: exactly the taken ones are remembered', async () => {
    const { clock, sim } = world(['a']);
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim, clock, backoff: { initialMs: 10, maxMs: 10 } });
    const s1 = w.stream({ markers: true });
    expect(await pullMany(s1, clock, 2)).toEqual(['ADDED a', 'SYNCED']);
    const names = Array.from({ length: 3000 }, (_, i) => `o${String(i).padStart(4, '0')}`);
    for (const name of names) sim.create('configmaps', { metadata: { name, namespace: 'ns' } }); // one chunk
    const first = await pullMany(s1, clock, 2000);
    expect(first).toEqual(names.slice(0, 2000).map((n) => `ADDED ${n}`));
    await s1.return(undefined);
    // o2000..o2999 were received, never taken: gone from memory, so a resync must deliver them as ADDED,
    // and the deletion of taken ones as tombstones (exactly once each).
    for (const name of names.slice(0, 10)) sim.delete('configmaps', `ns/${name}`);
    sim.compact();
    const s2 = w.stream({ markers: true });
    const got = await pullMany(s2, clock, 5000, (l) => l === 'SYNCED');
    await s2.return(undefined);
    expect(got[0]).toBe('RESYNC');
    expect(got.at(-1)).toBe('SYNCED');
    const body = got.slice(1, -1);
    expect(body.filter((l) => l.startsWith('ADDED')).sort()).toEqual(names.slice(2000).map((n) => `ADDED ${n}`));
    expect(body.filter((l) => l.startsWith('DELETED')).sort()).toEqual(names.slice(0, 10).map((n) => `DELETED ${n} (tombstone)`));
    expect(body).toHaveLength(1010);
  });
});

describe('KnownObjects over a view (one record per object: a shared watch diffs against its Store)', () => {
  type Op =
    | { op: 'observe'; type: 'ADDED' | 'MODIFIED' | 'DELETED'; name: string; uid: string; rv: number }
    | { op: 'relist'; objects: Array<{ name: string; uid: string; rv: number }> }
    | { op: 'commitSome'; fraction: number }
    | { op: 'rollback' };
  const names = ['a', 'b', 'c', 'd'];
  const arbOp: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      op: fc.constant('observe' as const),
      type: fc.constantFrom('ADDED' as const, 'MODIFIED' as const, 'DELETED' as const),
      name: fc.constantFrom(...names),
      uid: fc.constantFrom('u1', 'u2'),
      rv: fc.integer({ min: 1, max: 5 }),
    }),
    fc.record({
      op: fc.constant('relist' as const),
      objects: fc.uniqueArray(
        fc.record({ name: fc.constantFrom(...names), uid: fc.constantFrom('u1', 'u2'), rv: fc.integer({ min: 1, max: 5 }) }),
        { selector: (o) => o.name, maxLength: 4 },
      ),
    }),
    fc.record({ op: fc.constant('commitSome' as const), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }),
    fc.constant({ op: 'rollback' as const }),
  );

  it('gives the same diffs as its own map, when the view holds exactly what was committed', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 40 }), (ops) => {
        const own = new KnownObjects();
        // The "store": what the consumer took. Changes land in it when committed, as a shared watch applies them.
        const store = new Map<string, { uid: string; resourceVersion: string }>();
        const viewed = new KnownObjects({ get: (key) => store.get(key), keys: () => store.keys() });
        // Every change either memory made, by sequence number, so that a commit can apply them to the store.
        let changes: Array<{ seq: number; key: string; value: { uid: string; resourceVersion: string } | undefined }> = [];
        let committed = 0;
        for (const o of ops) {
          if (o.op === 'observe') {
            const m = { name: o.name, namespace: 'ns', uid: o.uid, resourceVersion: String(o.rv) };
            own.observe(o.type, m);
            viewed.observe(o.type, m);
            const value = o.type === 'DELETED' ? undefined : { uid: o.uid, resourceVersion: m.resourceVersion };
            changes.push({ seq: viewed.seq, key: `ns/${o.name}`, value });
          } else if (o.op === 'relist') {
            const diffs = [own, viewed].map((k) => {
              k.beginRelist();
              const out: string[] = [];
              for (const x of o.objects) {
                const m = { name: x.name, namespace: 'ns', uid: x.uid, resourceVersion: String(x.rv) };
                for (const d of k.listed({ metadata: m }, m)) {
                  out.push(`${d.type} ${x.name}`);
                  if (k === viewed)
                    changes.push({
                      seq: d.seq,
                      key: `ns/${x.name}`,
                      value: d.type === 'DELETED' ? undefined : { uid: m.uid, resourceVersion: m.resourceVersion },
                    });
                }
              }
              // Vanished objects come in the order of the record that holds them: compared as a set.
              const vanished: string[] = [];
              for (const d of k.endRelist()) {
                vanished.push(`DELETED ${d.type === 'DELETED' ? d.key : ''}`);
                if (k === viewed && d.type === 'DELETED') changes.push({ seq: d.seq, key: d.key, value: undefined });
              }
              out.push(...vanished.sort());
              return out;
            });
            expect(diffs[1]).toEqual(diffs[0]);
          } else if (o.op === 'commitSome') {
            const target = committed + Math.round((viewed.seq - committed) * o.fraction);
            own.commit(target);
            viewed.commit(target);
            for (const c of changes.filter((c) => c.seq <= target)) {
              if (c.value) store.set(c.key, c.value);
              else store.delete(c.key);
            }
            changes = changes.filter((c) => c.seq > target);
            committed = Math.max(committed, target);
          } else {
            own.rollback();
            viewed.rollback();
            changes = [];
            committed = viewed.seq;
          }
          expect(viewed.size).toBe(own.size);
          expect(viewed.uncommitted).toBe(own.uncommitted);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('KnownObjects.withhold', () => {
  it('commits up to the withheld change but keeps what the consumer holds of its key, through a later rollback too', () => {
    const known = new KnownObjects();
    known.observe('ADDED', meta('a', 'u-a', '1'));
    known.observe('ADDED', meta('b', 'u-b', '1'));
    known.commit(known.seq);
    known.observe('MODIFIED', meta('a', 'u-a', '2'));
    const withheld = known.seq;
    known.observe('DELETED', meta('b', 'u-b', '3'));
    const deleted = known.seq;
    known.observe('MODIFIED', meta('a', 'u-a', '4')); // not taken
    known.withhold(withheld, 'ns/a');
    known.withhold(deleted, 'ns/b');
    known.rollback();
    // a is held at 1 (2 was withheld, 4 never taken), b is still held (its deletion was withheld).
    expect(relist(known, [meta('a', 'u-a', '1')])).toEqual(['DELETED ns/b']);
    expect(relist(known, [meta('a', 'u-a', '4')])).toEqual(['MODIFIED a']);
  });

  it('commits as usual when the change that seq ends is not of that key', () => {
    const known = new KnownObjects();
    known.observe('ADDED', meta('a'));
    known.withhold(known.seq, 'ns/other');
    known.rollback();
    expect(known.size).toBe(1);
  });
});
