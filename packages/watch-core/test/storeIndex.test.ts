// A Store's index functions: one that throws is INDEX_FUNCTION_FAILED (its error the cause), contained to its index.
import { describe, expect, it } from 'vitest';
import { KwatchError, Store, WatchEvent } from '../src/index.ts';

type Obj = { metadata: { name: string; namespace: string }; node?: string };
const obj = (name: string, node?: string): Obj => ({ metadata: { name, namespace: 'ns' }, ...(node && { node }) });
const added = (o: Obj) => new WatchEvent('ADDED', o);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** An index function that throws a TypeError on an object without a node. */
const strictNode = (o: Obj): string[] => [(o.node as string).toUpperCase()];

describe('Store index functions', () => {
  it('addIndex over a stored object it throws on: INDEX_FUNCTION_FAILED with the TypeError as cause; not added', () => {
    const store = new Store<Obj>();
    store.apply(added(obj('a', 'n1')));
    store.apply(added(obj('b')));
    const error = thrown(() => store.addIndex('byNode', strictNode));
    expect(error).toBeInstanceOf(KwatchError);
    expect(error).toMatchObject({ name: 'KwatchError', code: 'INDEX_FUNCTION_FAILED', retryable: false });
    expect((error as Error).message).toBe(
      `The index function of "byNode" threw on ns/b: ${(thrown(() => strictNode(obj('b'))) as Error).message}`,
    );
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    // Not added: the name is free, and unknown.
    expect(thrown(() => store.byIndex('byNode', 'N1'))).toMatchObject({ code: 'INVALID_OPTION' });
    store.addIndex('byNode', (o) => [o.node ?? '']);
    expect(store.byIndex('byNode', 'n1').map((o) => o.metadata.name)).toEqual(['a']);
  });

  it('one that throws on an object stored later breaks its own index only: byIndex and indexValues say INDEX_FUNCTION_FAILED', () => {
    const store = new Store<Obj>();
    store.addIndex('strict', strictNode).addIndex('byNode', (o) => [o.node ?? '']);
    store.apply(added(obj('a', 'n1')));
    expect(store.byIndex('strict', 'N1').map((o) => o.metadata.name)).toEqual(['a']);
    store.apply(added(obj('b'))); // the store takes it; the strict index breaks
    for (const read of [() => store.byIndex('strict', 'N1'), () => store.indexValues('strict')]) {
      const error = thrown(read);
      expect(error).toMatchObject({ code: 'INDEX_FUNCTION_FAILED', retryable: false });
      expect((error as Error).cause).toBeInstanceOf(TypeError);
    }
    expect(store.size).toBe(2);
    expect(store.indexValues('byNode').sort()).toEqual(['', 'n1']);
    store.apply(added(obj('c', 'n1')));
    expect(store.byIndex('byNode', 'n1').map((o) => o.metadata.name)).toEqual(['a', 'c']);
  });

  it('misuse stays INVALID_OPTION: an unknown index, another function under a taken name, a function that is not one', () => {
    const store = new Store<Obj>().addIndex('byNode', (o) => [o.node ?? '']);
    expect(thrown(() => store.byIndex('nope', 'x'))).toMatchObject({ code: 'INVALID_OPTION' });
    expect(thrown(() => store.addIndex('byNode', (o) => [o.metadata.name]))).toMatchObject({ code: 'INVALID_OPTION' });
    expect(thrown(() => store.addIndex('other', 'x' as never))).toMatchObject({ code: 'INVALID_OPTION' });
  });
});
