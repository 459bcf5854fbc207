// SharedStore: one holder's handle on a shared Store — reads through it, release() once, and waits that always
// settle (ABORTED once released) — on a Store fed by hand.
import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { SharedStore } from '../src/informers/sharedStore.ts';
import { Store } from '../src/informers/store.ts';
import { errorFor, KwatchError } from '../src/internal/errors.ts';
import { WatchEvent, type WatchMarker } from '../src/internal/events.ts';

type Obj = { metadata: { name: string; namespace: string }; node?: string };
const obj = (name: string, node = 'n1', namespace = 'ns'): Obj => ({ metadata: { name, namespace }, node });
const synced: WatchMarker = { type: 'SYNCED', initial: true, resourceVersion: '1' };
const added = (o: Obj) => new WatchEvent('ADDED', o, false);
const NONE = Symbol('pending');
async function soon<T>(p: Promise<T>): Promise<T | typeof NONE | { rejected: unknown }> {
  let result: T | typeof NONE | { rejected: unknown } = NONE;
  p.then(
    (v) => {
      result = v;
    },
    (e: unknown) => {
      result = { rejected: e };
    },
  );
  for (let i = 0; i < 5; i++) await turn();
  return result;
}

function setup() {
  const store = new Store<Obj>();
  const release = vi.fn();
  return { store, release, handle: new SharedStore<Obj>(store, release) };
}

describe('SharedStore: reads', () => {
  it('reads the store: size, isReady, get, list by namespace', () => {
    const { store, handle } = setup();
    expect(handle.isReady).toBe(false);
    store.apply(added(obj('a')));
    store.apply(added(obj('b', 'n2', 'other')));
    store.apply(synced);
    expect(handle.isReady).toBe(true);
    expect(handle.size).toBe(2);
    expect(handle.get('ns', 'a')).toBe(store.get('ns', 'a'));
    expect(handle.get('ns', 'b')).toBeUndefined();
    expect(handle.list('other').map((o) => o.metadata.name)).toEqual(['b']);
    expect(handle.list()).toHaveLength(2);
  });

  it('indexes are shared by every handle of the store; addIndex chains', () => {
    const { store, handle } = setup();
    const other = new SharedStore<Obj>(store, () => {});
    store.apply(added(obj('a', 'n1')));
    expect(handle.addIndex('byNode', (o) => [o.node ?? ''])).toBe(handle);
    store.apply(added(obj('b', 'n2')));
    expect(other.byIndex('byNode', 'n2').map((o) => o.metadata.name)).toEqual(['b']);
    expect(other.indexValues('byNode').sort()).toEqual(['n1', 'n2']);
    expect(store.byIndex('byNode', 'n1').map((o) => o.metadata.name)).toEqual(['a']);
  });

  it('events() subscribes to the store; a released handle cannot subscribe (INVALID_OPTION)', async () => {
    const { store, handle } = setup();
    store.apply(synced);
    const events = handle.events();
    store.apply(added(obj('a')));
    expect((await events.next()).value).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'a' } } });
    await events.return();
    handle.release();
    let error: unknown;
    try {
      handle.events();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KwatchError);
    expect(error).toMatchObject({ code: 'INVALID_OPTION', message: 'This store handle was released' });
  });
});

describe('SharedStore: release', () => {
  it('lets go once: release() calls the holder release once; more calls and dispose do nothing', () => {
    const { handle, release } = setup();
    expect(handle.released).toBe(false);
    handle.release();
    expect(handle.released).toBe(true);
    handle.release();
    handle[Symbol.dispose]();
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('`using` releases at the end of the block', () => {
    const { store, release } = setup();
    {
      using handle = new SharedStore<Obj>(store, release);
      expect(handle.released).toBe(false);
    }
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('ready() and synced() resolve once the store syncs', async () => {
    const { store, handle } = setup();
    const ready = handle.ready();
    const sync = handle.synced();
    expect(await soon(ready)).toBe(NONE);
    store.apply(synced);
    expect(await soon(ready)).toBeUndefined();
    expect(await soon(sync)).toBeUndefined();
  });

  it('pending ready()/synced() reject ABORTED at release; later ones reject at once, even on a synced store', async () => {
    const { store, handle } = setup();
    const ready = soon(handle.ready());
    const sync = soon(handle.synced());
    handle.release();
    for (const p of [ready, sync]) {
      const got = await p;
      expect(got).toMatchObject({ rejected: { code: 'ABORTED' } });
      expect((got as { rejected: unknown }).rejected).toBeInstanceOf(KwatchError);
    }
    store.apply(synced);
    await expect(handle.ready()).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(handle.synced()).rejects.toMatchObject({ code: 'ABORTED' });
    expect(store.isReady).toBe(true);
  });

  it("releasing one handle does not settle another handle's waits", async () => {
    const { store, handle } = setup();
    const other = new SharedStore<Obj>(store, () => {});
    const mine = soon(handle.synced());
    const theirs = other.synced();
    handle.release();
    expect(await mine).toMatchObject({ rejected: { code: 'ABORTED' } });
    expect(await soon(theirs)).toBe(NONE);
    store.apply(synced);
    expect(await soon(theirs)).toBeUndefined();
  });

  it("a wait rejects with the watch's error when it fails for good first; release() after it changes nothing", async () => {
    const { store, handle } = setup();
    const sync = handle.synced();
    const forbidden = errorFor('FORBIDDEN', 'configmaps is forbidden', { httpStatus: 403 });
    store.fail(forbidden);
    expect(await soon(sync)).toEqual({ rejected: forbidden });
    handle.release();
    expect(await soon(sync)).toEqual({ rejected: forbidden });
  });

  it('a released handle on a failed store rejects ABORTED and leaves no unhandled rejection behind', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { store, handle } = setup();
      handle.release();
      store.fail(errorFor('FORBIDDEN', 'forbidden', { httpStatus: 403 }));
      await expect(handle.ready()).rejects.toMatchObject({ code: 'ABORTED' });
      await expect(handle.synced()).rejects.toMatchObject({ code: 'ABORTED' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
