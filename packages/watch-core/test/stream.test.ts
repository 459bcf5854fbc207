// LiveStream, the primitive behind every kwatch stream: how each way of leaving ends it and frees its producer.
import { describe, expect, it } from 'vitest';
import { LiveStream } from '../src/internal/stream.ts';

/** A producer that yields `items`, then waits for its signal; records what happened to it. */
function probe(items: number[] = []) {
  const log: string[] = [];
  let closes = 0;
  const stream = new LiveStream<number>({
    async *start(signal) {
      log.push('start');
      try {
        for (const i of items) yield i;
        await new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          else signal.addEventListener('abort', () => resolve(), { once: true });
        });
        log.push('woke');
      } finally {
        log.push('finally');
      }
    },
    close: () => {
      closes += 1;
    },
  });
  return { stream, log, closes: () => closes };
}

const within = <T>(p: Promise<T>, ms = 200): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`not settled in ${ms} ms`)), ms))]);

describe('LiveStream', () => {
  it('return() before the first pull never starts the producer and closes once', async () => {
    const { stream, log, closes } = probe([1]);
    expect(await within(stream.return())).toEqual({ done: true, value: undefined });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(log).toEqual([]);
    expect(closes()).toBe(1);
    await stream.return();
    expect(closes()).toBe(1);
  });

  it('return() while a next() is pending settles that next() done and runs the producer’s finally first', async () => {
    const { stream, log, closes } = probe([1]);
    expect(await stream.next()).toEqual({ done: false, value: 1 });
    const pending = stream.next();
    await new Promise((r) => setTimeout(r, 10));
    const returned = stream.return();
    expect(await within(pending)).toEqual({ done: true, value: undefined });
    await within(returned);
    expect(log).toEqual(['start', 'woke', 'finally']);
    expect(closes()).toBe(1);
  });

  it('queued next() calls all settle done when it ends', async () => {
    const { stream } = probe();
    const a = stream.next();
    const b = stream.next();
    const c = stream.next();
    await stream.return();
    expect(await within(Promise.all([a, b, c]))).toEqual([
      { done: true, value: undefined },
      { done: true, value: undefined },
      { done: true, value: undefined },
    ]);
  });

  it('break in for await runs the producer’s finally; await using does too', async () => {
    const p1 = probe([1, 2, 3]);
    for await (const x of p1.stream) if (x === 2) break;
    expect(p1.log).toEqual(['start', 'finally']);
    const p2 = probe([1]);
    {
      await using s = p2.stream;
      await s.next();
    }
    expect(p2.log).toEqual(['start', 'finally']);
    expect(p2.closes()).toBe(1);
  });

  it('an aborted signal ends it like return(), before or after the first pull', async () => {
    const before = new AbortController();
    before.abort();
    let started = false;
    const s1 = new LiveStream<number>({
      start: () => {
        started = true;
        return (async function* () {})();
      },
      signal: before.signal,
    });
    expect(await s1.next()).toEqual({ done: true, value: undefined });
    expect(started).toBe(false);

    const later = new AbortController();
    const log: string[] = [];
    const s2 = new LiveStream<number>({
      async *start(signal) {
        try {
          await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        } finally {
          log.push('finally');
        }
      },
      signal: later.signal,
    });
    const pending = s2.next();
    setTimeout(() => later.abort(), 5);
    expect(await within(pending)).toEqual({ done: true, value: undefined });
    await s2.return();
    expect(log).toEqual(['finally']);
  });

  it('throw() ends it and rejects with the error given', async () => {
    const { stream, log } = probe([1]);
    await stream.next();
    const err = new Error('boom');
    await expect(stream.throw(err)).rejects.toBe(err);
    expect(log).toEqual(['start', 'finally']);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('a producer’s error rejects the pull that met it, then the stream is done and closed', async () => {
    let closes = 0;
    const s = new LiveStream<number>({
      // biome-ignore lint/correctness/useYield: the producer fails before yielding
      async *start() {
        throw new Error('producer failed');
      },
      close: () => {
        closes += 1;
      },
    });
    await expect(s.next()).rejects.toThrow('producer failed');
    expect(await s.next()).toEqual({ done: true, value: undefined });
    await s.return();
    expect(closes).toBe(1);
  });

  it('a producer that ends closes the stream without a return()', async () => {
    let closes = 0;
    const s = new LiveStream<number>({
      async *start() {
        yield 1;
      },
      close: () => {
        closes += 1;
      },
    });
    const got: number[] = [];
    for await (const x of s) got.push(x);
    expect(got).toEqual([1]);
    await new Promise((r) => setTimeout(r, 0));
    expect(closes).toBe(1);
  });

  it('take() runs when an item is handed out, never for one produced after the consumer left', async () => {
    const taken: number[] = [];
    let release: (() => void) | undefined;
    const s = new LiveStream<number>({
      async *start() {
        yield 1;
        await new Promise<void>((r) => (release = r)); // not honouring the signal: the worst producer
        yield 2;
      },
      take: (x) => {
        taken.push(x);
        return x;
      },
    });
    expect(await s.next()).toEqual({ done: false, value: 1 });
    const pending = s.next();
    await new Promise((r) => setTimeout(r, 5));
    const returned = s.return();
    expect(await within(pending)).toEqual({ done: true, value: undefined });
    release?.();
    await within(returned);
    expect(taken).toEqual([1]);
  });

  it('batches are handed out one per next() in order; take() may skip an item; a throwing take() ends it', async () => {
    const s = new LiveStream<string, number>({
      batches: true,
      async *start() {
        yield [1, 2, 3];
        yield [4, 5];
      },
      take: (x) => {
        if (x === 5) throw new Error('cannot take 5');
        return x === 2 ? undefined : String(x);
      },
    });
    const got: string[] = [];
    await expect(
      (async () => {
        for await (const x of s) got.push(x);
      })(),
    ).rejects.toThrow('cannot take 5');
    expect(got).toEqual(['1', '3', '4']);
    expect(await s.next()).toEqual({ done: true, value: undefined });
  });

  it('a failing finally of the producer rejects return()', async () => {
    const s = new LiveStream<number>({
      async *start() {
        try {
          yield 1;
        } finally {
          // biome-ignore lint/correctness/noUnsafeFinally: the case under test
          throw new Error('save failed');
        }
      },
    });
    await s.next();
    await expect(s.return()).rejects.toThrow('save failed');
  });
});
