// The injectable clock every timer goes through (Clock, systemClock), and an abortable sleep.
/**
 * Time as the watcher sees it. Injected so tests can use fake timers; every timer the
 * watcher arms goes through one of these.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock. Its timers keep the process alive, as they must: a watcher backing off
 * while the apiserver is down is still working (an unref'd timer let such a process exit
 * in the middle of `for await`). Every timer is cleared when its stream ends.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * Waits `ms`, or less if `signal` aborts. Resolves `true` when the full time passed,
 * `false` when aborted; never rejects, and leaves no timer or listener behind.
 */
export function sleep(ms: number, signal: AbortSignal, clock: Clock = systemClock): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      resolve(false);
    };
    const handle = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
