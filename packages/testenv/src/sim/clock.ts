// ManualClock: the one fake clock of every kwatch test, shared by the simulated apiserver and the code under test.
import { setImmediate as turn } from 'node:timers/promises';

/**
 * Time as the simulated apiserver sees it: the same shape as kwatch's `Clock`
 * (`now` / `setTimeout` / `clearTimeout`), so one clock can drive both the server and the client.
 *
 * @example
 * ```ts
 * const clock: SimClock = { now: () => Date.now(), setTimeout, clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
 * ```
 */
export interface SimClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * A clock that moves only when the test says so. Timers fire in order of their due time
 * (then of creation); each sees `now()` equal to its own due time. Its methods are bound,
 * so it can be passed around as a plain `{ now, setTimeout, clearTimeout }` (it is a
 * watch-core `Clock` too).
 *
 * `advance`, `advanceTo` and `runNext` fire timers synchronously. When the code on the clock
 * awaits between timers (a watcher does), `advanceAsync` and `runUntilSettled` let it run:
 * a few event-loop turns before each timer fires.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * clock.setTimeout(() => console.log('fired at', clock.now()), 1_000);
 * clock.advance(999); // nothing yet
 * clock.runNext();    // fires it: "fired at 1735689601000"
 *
 * const next = watcher.stream().next();            // a watcher on this clock
 * await clock.runUntilSettled(next, 60_000);       // true once the first item is there
 * ```
 */
export class ManualClock implements SimClock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, Timer>();

  /** @param start The initial `now()`, in ms since the epoch. Default: 2025-01-01T00:00:00Z. */
  constructor(start: number = Date.UTC(2025, 0, 1)) {
    this.#now = start;
  }

  /** The current simulated time. */
  readonly now = (): number => this.#now;

  /** Arms a timer `ms` from now (negative or NaN counts as 0); returns its handle. */
  readonly setTimeout = (fn: () => void, ms: number): number => {
    const id = ++this.#seq;
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.#timers.set(id, { at: this.#now + delay, seq: id, fn });
    return id;
  };

  /** Disarms a timer; unknown handles are ignored. */
  readonly clearTimeout = (handle: unknown): void => {
    this.#timers.delete(handle as number);
  };

  /** How many timers are armed. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** When the next timer is due, or `undefined` when none is armed. */
  nextTimerAt(): number | undefined {
    return this.#next()?.at;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way (also ones armed
   * by firing timers), in order. Returns how many fired.
   */
  advance(ms: number): number {
    return this.advanceTo(this.#now + Math.max(0, ms));
  }

  /** Moves time forward to `time` (never backwards), firing due timers in order. Returns how many fired. */
  advanceTo(time: number): number {
    let fired = 0;
    for (let t = this.#next(); t !== undefined && t.at <= time; t = this.#next()) {
      this.#timers.delete(t.seq);
      this.#now = Math.max(this.#now, t.at);
      fired += 1;
      t.fn();
    }
    this.#now = Math.max(this.#now, time);
    return fired;
  }

  /**
   * Moves time to the next due timer and fires every timer due at that moment.
   * Returns `false` (and leaves time alone) when no timer is armed.
   */
  runNext(): boolean {
    const next = this.#next();
    if (!next) return false;
    this.advanceTo(next.at);
    return true;
  }

  /**
   * Moves time forward by `ms` as `advance` does, but lets async work run on the way: `turns`
   * event-loop turns (promises, I/O callbacks) before each timer fires, and after the last.
   */
  async advanceAsync(ms: number, turns = DEFAULT_TURNS): Promise<void> {
    const until = this.#now + Math.max(0, ms);
    for (;;) {
      await settle(turns);
      const next = this.nextTimerAt();
      if (next === undefined || next > until) break;
      this.runNext();
    }
    this.advanceTo(until);
    await settle(turns);
  }

  /**
   * Lets `promise` settle, firing timers one due time at a time with `turns` event-loop turns
   * in between, but not moving past `ms` from now. Resolves `true` once `promise` settled
   * (fulfilled or rejected: its rejection counts as handled here), `false` when the time ran
   * out first. Throws after 10,000 steps with neither (a livelock).
   */
  async runUntilSettled(promise: Promise<unknown>, ms: number, turns = DEFAULT_TURNS): Promise<boolean> {
    let settled = false;
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    const deadline = this.#now + Math.max(0, ms);
    for (let i = 0; i < MAX_STEPS; i++) {
      await settle(turns);
      if (settled) return true;
      if (this.#now >= deadline) return false;
      const next = this.nextTimerAt();
      if (next === undefined || next > deadline) this.advanceTo(deadline);
      else this.runNext();
    }
    throw new Error(`livelock: ${MAX_STEPS} steps and the promise is still pending`);
  }

  #next(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.#timers.values()) {
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

/** Event-loop turns `advanceAsync` and `runUntilSettled` give async work before each timer. */
const DEFAULT_TURNS = 3;
/** How many steps `runUntilSettled` takes before it calls it a livelock. */
const MAX_STEPS = 10_000;

async function settle(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await turn();
}
