import { describe, expect, it } from 'vitest';
import { Store } from '../src/informers/store.ts';
import { errorFor, KwatchError } from '../src/internal/errors.ts';
import { tombstoneEvent, WatchEvent, type WatchMarker } from '../src/internal/events.ts';

type Obj = { apiVersion: 'v1'; kind: 'Pod'; metadata: { name: string; namespace: string }; node?: string | undefined };
const obj = (name: string, node?: string): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' }, node });
const synced: WatchMarker = { type: 'SYNCED', initial: true, resourceVersion: '1' };
const resync: WatchMarker = { type: 'RESYNC', reason: errorFor('GONE', 'gone', { httpStatus: 410 }) };

describe('Store.synced(), get, byIndex, events()', () => {
  it('synced() waits for the initial state and for a resync to be applied', async () => {
    const store = new Store<Obj>();
    let n = 0;
    void store.synced().then(() => n++);
    store.apply(new WatchEvent('ADDED', obj('a'), true));
    await Promise.resolve();
    expect(n).toBe(0);
    store.apply(synced);
    await Promise.resolve();
    expect(n).toBe(1);
    store.apply(resync);
    expect(store.isResyncing).toBe(true);
    void store.synced().then(() => n++);
    await Promise.resolve();
    expect(n).toBe(1);
    store.apply({ ...synced, initial: false });
    await Promise.resolve();
    expect(n).toBe(2);
  });

  it('synced() rejects once the feeding stream failed for good, also after it was in sync; ready() stays resolved', async () => {
    const store = new Store<Obj>();
    const error = new KwatchError('ABORTED', 'x');
    const failing = (async function* () {
      yield new WatchEvent('ADDED', obj('a'), true);
      yield synced;
      throw error;
    })();
    await expect(store.consume(failing)).rejects.toBe(error);
    await expect(store.ready()).resolves.toBeUndefined();
    await expect(store.synced()).rejects.toBe(error);
    expect(store.get('ns', 'a')?.metadata.name).toBe('a');
  });

  it('a tombstone removes the object from every index; events carry the old object', async () => {
    const store = new Store<Obj>().addIndex('byNode', (o) => [o.node ?? '']);
    const events = store.events();
    store.apply(new WatchEvent('ADDED', obj('a', 'n1')));
    store.apply(new WatchEvent('MODIFIED', obj('a', 'n2')));
    store.apply(tombstoneEvent<Obj>({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'ns' } }));
    expect(store.byIndex('byNode', 'n1')).toEqual([]);
    expect(store.byIndex('byNode', 'n2')).toEqual([]);
    expect(store.indexValues('byNode')).toEqual([]);
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const { value } = await events.next();
      seen.push(`${value?.type} ${value?.old?.node ?? '-'}→${value?.object.node}`);
    }
    expect(seen).toEqual(['ADDED -→n1', 'MODIFIED n1→n2', 'DELETED n2→n2']); // a tombstone's DELETED carries the last stored object
    await events.return(undefined);
  });

  it('addIndex: the same function again is a no-op, another under the same name an error; byIndex of an unknown index is an error', () => {
    const store = new Store<Obj>();
    const fn = (o: Obj) => [o.node ?? ''];
    store.addIndex('byNode', fn).addIndex('byNode', fn);
    expect(() => store.addIndex('byNode', (o) => [o.metadata.name])).toThrow(/already has an index/);
    expect(() => store.byIndex('nope', 'x')).toThrow(/no index named/);
  });
});
