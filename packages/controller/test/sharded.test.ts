// A sharded Controller without a control plane: a reconcile running when its key's range is lost is aborted at once.
import { ConfigMap } from '@kwatch/models/v1';
import { HASH_SPACE, type HashRange, type InformerFactory, inRanges, type Shard, WatchEvent } from '@kwatch/watch-core';
import { describe, expect, it } from 'vitest';
import { Controller } from '../src/index.ts';

/** A shard the test moves by hand. */
class MovableShard implements Shard {
  #ranges: readonly HashRange[] = [{ start: 0n, end: HASH_SPACE }];
  readonly #listeners = new Set<() => void>();
  ranges(): readonly HashRange[] {
    return this.#ranges;
  }
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  move(ranges: readonly HashRange[]): void {
    this.#ranges = ranges;
    for (const l of [...this.#listeners]) l();
  }
}

const object = { metadata: { namespace: 'ns', name: 'x', uid: '6f1c1ad0-4d8e-4a39-9d5c-7b1e3c2a9f10', resourceVersion: '1' } };

/**
 * A factory whose stream gives one object and SYNCED, then nothing: the sync of a moved shard never comes (its LIST
 * failing, say), so no tombstone tells the controller that the object left.
 */
function stalledInformers(): InformerFactory {
  const store = {
    get: (ns: string | undefined, name: string) => (`${ns}/${name}` === 'ns/x' ? object : undefined),
    synced: () => Promise.resolve(),
    release: () => {},
    isReady: true,
    events: async function* ({ signal }: { signal: AbortSignal }) {
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    },
  };
  const stream = ({ signal }: { signal: AbortSignal }) =>
    (async function* () {
      yield new WatchEvent('ADDED', object);
      yield { type: 'SYNCED', initial: true, resourceVersion: '1' };
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    })();
  return {
    store: () => store,
    stream: (_kind: unknown, options: { signal: AbortSignal }) => stream(options),
    watches: () => [],
  } as unknown as InformerFactory;
}

describe('a sharded Controller', () => {
  it('aborts a running reconcile when the shard loses its key, before any sync of the new ranges', async () => {
    const shard = new MovableShard();
    let started: (() => void) | undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    let reason: unknown;
    const errors: unknown[] = [];
    const stop = new AbortController();
    const controller = new Controller(ConfigMap, {
      informers: stalledInformers(),
      shard,
      onError: (error) => errors.push(error),
      reconcile: async ({ signal }) => {
        started?.();
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        reason = signal.reason;
        throw signal.reason; // as a reconcile honouring its signal does: ended from outside, not a failure
      },
    });
    const run = controller.run({ signal: stop.signal, drainTimeoutMs: 1000 });
    await running;
    // The range holding x's uid is lost: the other half of the space stays.
    const half = 1n << 63n;
    const other = inRanges(object.metadata.uid, [{ start: 0n, end: half }])
      ? { start: half, end: HASH_SPACE }
      : { start: 0n, end: half };
    shard.move([other]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reason).toMatchObject({ code: 'RESHARDED' });
    expect(errors).toEqual([]); // the moved key's abort is not reported as a failure
    stop.abort();
    await run;
  });
});
