// The dead-connection check without PING: watches clamped to end within readIdle, and a pull waiting too long fails.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clampWatch, guardReadIdle, watchSecondsWithoutPing } from '../src/client/readIdle.ts';

const health = { readIdleMs: 30_000, pingTimeoutMs: 15_000 };

describe('clampWatch', () => {
  it("lowers a watch's timeoutSeconds to readIdle, sets it when absent, and leaves other requests alone", () => {
    expect(watchSecondsWithoutPing(health)).toBe(30);
    expect(clampWatch('/api/v1/pods?watch=1&timeoutSeconds=290', health)).toBe('/api/v1/pods?watch=1&timeoutSeconds=30');
    expect(clampWatch('/api/v1/pods?watch=true&resourceVersion=5', health)).toBe(
      '/api/v1/pods?watch=true&resourceVersion=5&timeoutSeconds=30',
    );
    expect(clampWatch('/api/v1/pods?watch=1&timeoutSeconds=10', health)).toBe('/api/v1/pods?watch=1&timeoutSeconds=10');
    expect(clampWatch('/api/v1/pods?limit=500', health)).toBe('/api/v1/pods?limit=500');
    expect(clampWatch('/api/v1/pods', health)).toBe('/api/v1/pods');
    expect(clampWatch('/api?watch=1', { readIdleMs: 500, pingTimeoutMs: 1 })).toBe('/api?watch=1&timeoutSeconds=1');
  });
});

/** A body whose chunks the test pushes; destroy(error) fails the pending pull, as a Node stream does. */
function fakeBody() {
  const queue: Uint8Array[] = [];
  let waiting: { resolve: (r: IteratorResult<Uint8Array>) => void; reject: (e: unknown) => void } | undefined;
  let failed: Error | undefined;
  const body = {
    destroyed: undefined as Error | undefined | null,
    push(chunk: Uint8Array) {
      if (waiting) {
        waiting.resolve({ done: false, value: chunk });
        waiting = undefined;
      } else queue.push(chunk);
    },
    destroy(error?: Error) {
      body.destroyed = error ?? null;
      failed = error;
      waiting?.reject(error);
      waiting = undefined;
    },
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      return {
        next: () => {
          if (failed) return Promise.reject(failed);
          const chunk = queue.shift();
          if (chunk) return Promise.resolve({ done: false, value: chunk });
          return new Promise((resolve, reject) => {
            waiting = { resolve, reject };
          });
        },
      };
    },
  };
  return body;
}

describe('guardReadIdle', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fails a pull that waits readIdle + pingTimeout for a byte with STALLED, and no sooner', async () => {
    const body = fakeBody();
    const it = guardReadIdle(body, health, 'https://10.0.0.1:6443')[Symbol.asyncIterator]();
    const pull = it.next();
    const outcome = pull.then(
      () => 'resolved',
      (e: { code?: string; message?: string }) => e,
    );
    await vi.advanceTimersByTimeAsync(44_000);
    expect(body.destroyed).toBeUndefined();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await outcome).toMatchObject({ code: 'STALLED' });
    expect(String(((await outcome) as Error).message)).toContain('https://10.0.0.1:6443');
  });

  it('bytes reset the wait; a consumer that does not pull is never taken for a dead connection', async () => {
    const body = fakeBody();
    const it = guardReadIdle(body, health, 'https://x')[Symbol.asyncIterator]();
    for (let i = 0; i < 5; i++) {
      const pull = it.next();
      await vi.advanceTimersByTimeAsync(40_000);
      body.push(new Uint8Array([i]));
      expect((await pull).value).toEqual(new Uint8Array([i]));
    }
    // Not pulling for ten minutes (a slow consumer, backpressure): nothing happens.
    await vi.advanceTimersByTimeAsync(600_000);
    expect(body.destroyed).toBeUndefined();
    body.push(new Uint8Array([9]));
    expect((await it.next()).value).toEqual(new Uint8Array([9]));
  });

  it('stops checking once the body ends or is destroyed by its owner', async () => {
    const body = fakeBody();
    const guarded = guardReadIdle(body, health, 'https://x');
    guarded.destroy();
    expect(body.destroyed).toBeNull();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(body.destroyed).toBeNull(); // not destroyed again with STALLED
    expect(vi.getTimerCount()).toBe(0);
  });
});
