import { ConfigMap } from '@kwatch/models/v1';
import { describe, expect, it } from 'vitest';
import { Watcher } from '../src/index.ts';
import { dropManagedFields, Store } from '../src/informers/store.ts';
import { errorFor } from '../src/internal/errors.ts';
import { WatchEvent, type WatchMarker } from '../src/internal/events.ts';
import { pull, show, world } from './simWorld.ts';

type Obj = { metadata: { name: string; namespace?: string; managedFields?: unknown[] }; v?: number };
const obj = (name: string, v = 1, namespace = 'ns'): Obj => ({ metadata: { name, namespace, managedFields: [{}] }, v });
const synced: WatchMarker = { type: 'SYNCED', initial: true, resourceVersion: '1' };
const resync: WatchMarker = { type: 'RESYNC', reason: errorFor('GONE', 'gone', { httpStatus: 410 }) };

describe('Store', () => {
  it('is ready after the initial state; get and list by namespace', async () => {
    const store = new Store<Obj>();
    let ready = false;
    void store.ready().then(() => {
      ready = true;
    });
    store.apply(new WatchEvent('ADDED', obj('a'), true));
    store.apply(new WatchEvent('ADDED', obj('b', 1, 'other'), true));
    await Promise.resolve();
    expect(ready).toBe(false);
    store.apply(synced);
    await Promise.resolve();
    expect(ready).toBe(true);
    expect(store.get('ns', 'a')?.v).toBe(1);
    expect(store.list('other').map((o) => o.metadata.name)).toEqual(['b']);
    expect(store.list()).toHaveLength(2);
    store.apply(new WatchEvent('DELETED', obj('a')));
    expect(store.get('ns', 'a')).toBeUndefined();
  });

  it('applies a resync all at once at SYNCED: readers never see half of it', () => {
    const store = new Store<Obj>();
    store.apply(new WatchEvent('ADDED', obj('keep')));
    store.apply(new WatchEvent('ADDED', obj('gone')));
    store.apply(synced);
    store.apply(resync);
    store.apply(new WatchEvent('MODIFIED', obj('keep', 2), true));
    store.apply(new WatchEvent('DELETED', obj('gone'), true));
    store.apply(new WatchEvent('ADDED', obj('new'), true));
    expect(
      store
        .list()
        .map((o) => `${o.metadata.name}:${o.v}`)
        .sort(),
    ).toEqual(['gone:1', 'keep:1']);
    store.apply({ ...synced, initial: false });
    expect(
      store
        .list()
        .map((o) => `${o.metadata.name}:${o.v}`)
        .sort(),
    ).toEqual(['keep:2', 'new:1']);
  });

  it('a resync resumed by a new stream is announced again; what its first part delivered is kept', () => {
    const store = new Store<Obj>();
    store.apply(new WatchEvent('ADDED', obj('a')));
    store.apply(new WatchEvent('ADDED', obj('b')));
    store.apply(synced);
    store.apply(resync);
    store.apply(new WatchEvent('MODIFIED', obj('a', 2), true)); // then the consumer breaks
    store.apply(resync); // the next stream resumes the resync
    store.apply(new WatchEvent('MODIFIED', obj('b', 2), true));
    store.apply({ ...synced, initial: false });
    expect(
      store
        .list()
        .map((o) => `${o.metadata.name}:${o.v}`)
        .sort(),
    ).toEqual(['a:2', 'b:2']);
  });

  it('transforms objects before keeping them (dropManagedFields)', () => {
    const store = new Store<Obj>({ transform: dropManagedFields });
    store.apply(new WatchEvent('ADDED', obj('a')));
    expect(store.get('ns', 'a')?.metadata.managedFields).toBeUndefined();
  });

  it('dropManagedFields keeps every other field of the metadata, and the metadata fast (no delete)', () => {
    const o = {
      metadata: { name: 'a', namespace: 'ns', uid: 'u', resourceVersion: '7', labels: { x: 'y' }, managedFields: [{}] },
    };
    const kept = dropManagedFields(o);
    expect(kept).toBe(o);
    expect(kept.metadata).toEqual({ name: 'a', namespace: 'ns', uid: 'u', resourceVersion: '7', labels: { x: 'y' } });
    expect('managedFields' in kept.metadata).toBe(false);
    const none = { metadata: { name: 'b' } };
    expect(dropManagedFields(none).metadata).toBe(none.metadata); // nothing to drop: untouched
  });
});

describe('Store fed by a Watcher across broken resyncs', () => {
  it('Store across a resync broken twice (after RESYNC + 1, then after the DELETED half of a recreate): it ends equal to the server', async () => {
    const { clock, sim } = world(['a', 'b', 'c']);
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim, clock, backoff: { initialMs: 10, maxMs: 10 } });
    const store = new Store<ConfigMap>();
    /** Feeds the store `n` items of a new stream, then breaks (as `for await` with a counter). */
    const feed = async (n: number) => {
      const it = w.stream({ markers: true });
      const seen: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = await pull(it, clock);
        if (r.done) break;
        seen.push(show(r.value));
        store.apply(r.value);
        if (r.value.type === 'SYNCED') break;
      }
      await it.return(undefined);
      return seen;
    };
    expect(await feed(4)).toEqual(['ADDED a', 'ADDED b', 'ADDED c', 'SYNCED']);
    sim.update('configmaps', 'ns/a', { data: { v: '2' } });
    sim.delete('configmaps', 'ns/b');
    sim.delete('configmaps', 'ns/c');
    sim.create('configmaps', { metadata: { name: 'c', namespace: 'ns' }, data: { v: 'new' } });
    sim.compact();
    expect(await feed(2)).toEqual(['RESYNC', 'MODIFIED a']);
    expect(store.get('ns', 'a')?.data).toBeUndefined(); // held until SYNCED
    expect(await feed(2)).toEqual(['RESYNC', 'DELETED c (tombstone)']);
    expect(await feed(10)).toEqual(['RESYNC', 'ADDED c', 'DELETED b (tombstone)', 'SYNCED']);
    const view = store
      .list('ns')
      .map((o) => `${o.metadata?.name}@${o.metadata?.uid}:${JSON.stringify(o.data ?? {})}`)
      .sort();
    const server = sim
      .objects('configmaps', 'ns')
      .map((o) => `${o.metadata.name}@${o.metadata.uid}:${JSON.stringify(o.data ?? {})}`)
      .sort();
    expect(view).toEqual(server);
  });
});
