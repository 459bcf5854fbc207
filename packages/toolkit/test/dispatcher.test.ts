import { setTimeout as sleep } from 'node:timers/promises';
import { WatchEvent } from '@kwatch/watch-core';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../src/defaults.ts';
import { ListenerDispatcher, resolveDispatcherOptions } from '../src/dispatcher.ts';
import { EventListener, type ListenerContext } from '../src/listener.ts';

type Obj = { metadata: { name: string; namespace: string }; seq: number };
const ev = (type: 'ADDED' | 'MODIFIED' | 'DELETED', name: string, seq: number) =>
  new WatchEvent<Obj>(type, { metadata: { name, namespace: 'ns' }, seq });

describe('ListenerDispatcher', () => {
  it('a listener that throws on every event stops neither the others nor the dispatcher', async () => {
    const seen: number[] = [];
    const errors: unknown[] = [];
    class Broken extends EventListener<Obj> {
      override create(): never {
        throw new Error('always');
      }
      override error(e: unknown) {
        errors.push(e);
      }
    }
    class Good extends EventListener<Obj> {
      override create(o: Obj) {
        seen.push(o.seq);
      }
    }
    const reported: unknown[] = [];
    const d = new ListenerDispatcher<Obj>([new Broken(), new Good()], { onListenerError: (e) => reported.push(e) });
    for (let i = 0; i < 20; i++) await d.dispatch(ev('ADDED', `o${i}`, i));
    await d.drain();
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(errors).toHaveLength(20);
    expect(reported).toHaveLength(20);
  });

  it('keeps the order of one object while handling different objects concurrently, bounded', async () => {
    const perObject = new Map<string, number[]>();
    let running = 0;
    let maxRunning = 0;
    class Slow extends EventListener<Obj> {
      async #handle(o: Obj) {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await sleep(Math.random() * 5);
        perObject.set(o.metadata.name, [...(perObject.get(o.metadata.name) ?? []), o.seq]);
        running -= 1;
      }
      override create(o: Obj) {
        return this.#handle(o);
      }
      override update(o: Obj) {
        return this.#handle(o);
      }
    }
    const d = new ListenerDispatcher<Obj>([new Slow()], { concurrency: 4 });
    for (let seq = 0; seq < 200; seq++) await d.dispatch(ev(seq < 10 ? 'ADDED' : 'MODIFIED', `o${seq % 10}`, seq));
    await d.drain();
    for (const [, seqs] of perObject) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect([...perObject.values()].flat()).toHaveLength(200);
    expect(maxRunning).toBeLessThanOrEqual(4);
    expect(maxRunning).toBeGreaterThan(1);
  });

  it('reuses an instance, but makes a fresh one per event from a class; event and metadata come in ctx', async () => {
    const instances = new Set<EventListener<Obj>>();
    const names: string[] = [];
    class Track extends EventListener<Obj> {
      override create(_o: Obj, ctx: ListenerContext<Obj>) {
        instances.add(this);
        names.push(`${ctx.event.type} ${ctx.metadata?.name}`);
      }
    }
    const shared = new Track();
    await new ListenerDispatcher<Obj>([shared]).dispatch(ev('ADDED', 'a', 1));
    const d = new ListenerDispatcher<Obj>([Track]);
    await d.dispatch(ev('ADDED', 'b', 2));
    await d.dispatch(ev('ADDED', 'c', 3));
    await d.drain();
    await sleep(10);
    expect(instances.size).toBe(3);
    expect(instances.has(shared)).toBe(true);
    expect(names.sort()).toEqual(['ADDED a', 'ADDED b', 'ADDED c']);
  });

  it('in a chain, a failure rolls back the earlier listeners in reverse order and skips the later ones', async () => {
    const log: string[] = [];
    const step = (name: string, result: unknown) =>
      new (class extends EventListener<Obj> {
        override create(_o: Obj, ctx: { state: Record<string, unknown> }) {
          log.push(`create ${name}`);
          ctx.state[name] = true;
          return result;
        }
        override rollback(_o: Obj, ctx: { state: Record<string, unknown> }) {
          log.push(`rollback ${name} (state has ${Object.keys(ctx.state).join(',')})`);
        }
      })();
    const d = new ListenerDispatcher<Obj>([step('a', undefined), step('b', true), step('c', false), step('d', undefined)], {
      chain: true,
    });
    await d.dispatch(ev('ADDED', 'x', 1));
    await d.drain();
    expect(log).toEqual(['create a', 'create b', 'create c', 'rollback b (state has a,b,c)', 'rollback a (state has a,b,c)']);
  });

  it('a shared instance handling two objects whose handlers interleave across an await: each sees its own event', async () => {
    let releaseA!: () => void;
    const aWaits = new Promise<void>((resolve) => {
      releaseA = resolve;
    });
    const seen: string[] = [];
    class Interleaved extends EventListener<Obj> {
      override async create(o: Obj, ctx: ListenerContext<Obj>) {
        if (o.metadata.name === 'a')
          await aWaits; // a waits until b has started
        else releaseA();
        seen.push(`${o.metadata.name}: ${ctx.metadata?.name} ${ctx.event.object.metadata.name}`);
      }
    }
    const shared = new Interleaved();
    const d = new ListenerDispatcher<Obj>([shared]);
    await d.dispatch(ev('ADDED', 'a', 1));
    await d.dispatch(ev('ADDED', 'b', 2));
    await d.drain();
    expect(seen).toEqual(['b: b b', 'a: a a']); // they did interleave, and neither saw the other's
    // Nothing per event is written on the shared instance (skafos's `self.event` was, and raced).
    expect(Object.keys(shared)).toEqual([]);
  });
});

describe('ListenerDispatcher options: declared once, checked at construction, defaults from DEFAULTS.dispatcher', () => {
  it.each([
    [{ concurrency: 0 }, 'Expected `concurrency` to be a positive integer, got 0'],
    [{ concurrency: 1.5 }, 'Expected `concurrency` to be a positive integer, got 1.5'],
    [{ chain: 'yes' }, 'Expected `chain` to be true or false, got "yes"'],
    [{ onListenerError: 1 }, 'Expected `onListenerError` to be a function, got 1'],
    [{ concurrence: 4 }, 'Unknown option `concurrence`'],
  ])('%o is an INVALID_OPTION naming it', (options, message) => {
    expect(() => new ListenerDispatcher([], options as never)).toThrow(
      expect.objectContaining({ name: 'KwatchError', code: 'INVALID_OPTION', message }),
    );
  });

  it('applies the defaults', () => {
    expect(resolveDispatcherOptions({})).toEqual({ concurrency: 8, chain: false, onListenerError: undefined });
    expect(resolveDispatcherOptions(undefined)).toEqual(resolveDispatcherOptions({}));
    expect(DEFAULTS.dispatcher).toMatchObject({ concurrency: 8, chain: false });
    expect(resolveDispatcherOptions({ concurrency: 2, chain: true })).toMatchObject({ concurrency: 2, chain: true });
  });

  it('by default 8 events of different objects run at once', async () => {
    let running = 0;
    let most = 0;
    class Slow extends EventListener<Obj> {
      override async create() {
        most = Math.max(most, ++running);
        await sleep(20);
        running -= 1;
      }
    }
    const d = new ListenerDispatcher<Obj>([new Slow()]);
    for (let i = 0; i < 20; i++) await d.dispatch(ev('ADDED', `o${i}`, i));
    await d.drain();
    expect(most).toBe(DEFAULTS.dispatcher.concurrency);
  });
});
