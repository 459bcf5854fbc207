// Store indexes and Store.events() against a brute-force model, under random changes, tombstones and resyncs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Store, type StoreChange } from '../src/informers/store.ts';
import { errorFor } from '../src/internal/errors.ts';
import { tombstoneEvent, WatchEvent, type WatchMarker } from '../src/internal/events.ts';

type Pod = {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: { name: string; namespace: string };
  spec: { nodeName?: string; labels: string[] };
};

const NODES = ['n1', 'n2', 'n3', ''];
const pod = (name: string, namespace: string, node: string | undefined, labels: string[]): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace },
  spec: node === undefined ? { labels } : { nodeName: node, labels },
});

const op = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('put' as const),
      name: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
      namespace: fc.constantFrom('x', 'y'),
      node: fc.option(fc.constantFrom(...NODES), { nil: undefined }),
      labels: fc.uniqueArray(fc.constantFrom('l1', 'l2', 'l3'), { maxLength: 3 }),
      synthetic: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('delete' as const),
      name: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
      namespace: fc.constantFrom('x', 'y'),
      tombstone: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'resync' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'synced' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pull' as const), n: fc.nat(4) }) },
);

const key = (p: { metadata: { namespace: string; name: string } }) => `${p.metadata.namespace}/${p.metadata.name}`;
const names = (ps: Pod[]) => ps.map(key).sort();

describe('Store indexes and events, against brute force', () => {
  it('byIndex equals a filter of the visible objects after every change; events() converge to the store', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 80 }), fc.integer({ min: 1, max: 6 }), async (ops, bufferSize) => {
        const store = new Store<Pod>();
        const byNode = (p: Pod) => [p.spec.nodeName ?? ''];
        const byLabel = (p: Pod) => p.spec.labels;
        store.addIndex('byNode', byNode);
        const stop = new AbortController();
        const events = store.events({ bufferSize, signal: stop.signal });
        const mirror = new Map<string, Pod>(); // what the events() consumer built
        // One pull at a time stays outstanding: an empty queue leaves it waiting for the next change.
        let outstanding: Promise<IteratorResult<StoreChange<Pod>>> | undefined;
        let got: IteratorResult<StoreChange<Pod>> | undefined;
        const take = async (n: number) => {
          for (let i = 0; i < n; i++) {
            if (!outstanding) {
              got = undefined;
              outstanding = events.next().then((r) => (got = r));
            }
            await new Promise((r) => setImmediate(r));
            if (!got) return;
            outstanding = undefined;
            if (got.done) return;
            applyChange(mirror, got.value);
          }
        };
        let visible = new Map<string, Pod>(); // the model: what readers see
        let pending: Map<string, Pod> | undefined; // the model of a resync being received
        let indexedLabels = false;
        for (const o of ops) {
          if (o.kind === 'put') {
            const p = pod(o.name, o.namespace, o.node, o.labels);
            const existed = (pending ?? visible).has(key(p));
            store.apply(new WatchEvent(existed ? 'MODIFIED' : 'ADDED', p, o.synthetic));
            (pending ?? visible).set(key(p), p);
          } else if (o.kind === 'delete') {
            const k = `${o.namespace}/${o.name}`;
            const known = (pending ?? visible).get(k);
            if (!known) continue;
            const ev = o.tombstone
              ? tombstoneEvent<Pod>({ apiVersion: 'v1', kind: 'Pod', metadata: { name: o.name, namespace: o.namespace } })
              : new WatchEvent('DELETED', known);
            store.apply(ev);
            (pending ?? visible).delete(k);
          } else if (o.kind === 'resync') {
            store.apply({ type: 'RESYNC', reason: errorFor('GONE', 'gone', { httpStatus: 410 }) } satisfies WatchMarker);
            pending ??= new Map(visible);
          } else if (o.kind === 'synced') {
            store.apply({ type: 'SYNCED', initial: false, resourceVersion: '1' } satisfies WatchMarker);
            if (pending) visible = pending;
            pending = undefined;
            if (!indexedLabels) {
              store.addIndex('byLabel', byLabel); // an index added later covers what is stored
              indexedLabels = true;
            }
          } else await take(o.n);
          // After every step: the indexes agree with a brute-force filter of what readers see.
          const all = [...visible.values()];
          expect(names(store.list())).toEqual(names(all));
          for (const n of NODES)
            expect(names(store.byIndex('byNode', n))).toEqual(names(all.filter((p) => byNode(p).includes(n))));
          if (indexedLabels)
            for (const l of ['l1', 'l2', 'l3'])
              expect(names(store.byIndex('byLabel', l))).toEqual(names(all.filter((p) => p.spec.labels.includes(l))));
          expect(store.indexValues('byNode').sort()).toEqual([...new Set(all.flatMap(byNode))].sort());
        }
        // Drain: the events consumer's mirror converges to the store, with nothing lost (overflows included).
        await take(10_000);
        expect([...mirror.entries()].sort()).toEqual([...visible.entries()].sort());
        stop.abort();
        await outstanding;
        await events.return(undefined);
      }),
      { numRuns: 300 },
    );
  });
});

function applyChange(mirror: Map<string, Pod>, c: StoreChange<Pod>): void {
  const k = key(c.object);
  if (c.type === 'ADDED') {
    expect(mirror.has(k)).toBe(false); // never twice
    mirror.set(k, c.object);
  } else {
    expect(mirror.get(k)).toBe(c.old); // the old object is what the consumer held
    if (c.type === 'DELETED') mirror.delete(k);
    else mirror.set(k, c.object);
  }
}
