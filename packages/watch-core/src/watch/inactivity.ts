// A watch's inactivity timeout: one timer per watch, re-armed when it fires, instead of one per chunk read.
import type { Clock } from '../internal/index.ts';

/**
 * Declares a stall when a read has waited `ms` for data. Only time spent waiting counts (a consumer that
 * takes its time between reads never trips it). One timer serves every read: a read notes when it began,
 * and the timer, when it fires, either declares the stall or sleeps until the current wait would reach `ms`
 * — the same deadline as a timer per read, without arming and clearing one for each chunk.
 *
 * @example
 * ```ts
 * const idle = new InactivityTimer(systemClock, 120_000, () => body.close(stalled));
 * idle.wait();
 * try { chunk = await iterator.next(); } finally { idle.arrived(); }
 * idle.stop(); // when the watch ends
 * ```
 */
export class InactivityTimer {
  readonly #clock: Clock;
  readonly #ms: number;
  readonly #onStall: () => void;
  #handle: unknown;
  #armed = false;
  /** When the read in progress began; -1 when none is. */
  #since = -1;

  /** @param ms How long a read may wait for data. @param onStall Called once a read has waited that long. */
  constructor(clock: Clock, ms: number, onStall: () => void) {
    this.#clock = clock;
    this.#ms = ms;
    this.#onStall = onStall;
  }

  /** A read begins. */
  wait(): void {
    this.#since = this.#clock.now();
    if (!this.#armed) this.#arm(this.#ms);
  }

  /** The read in progress ended (data, the end of the stream, or an error). */
  arrived(): void {
    this.#since = -1;
  }

  /** The watch ended: disarms the timer. Safe more than once. */
  stop(): void {
    this.#since = -1;
    if (this.#armed) {
      this.#armed = false;
      this.#clock.clearTimeout(this.#handle);
      this.#handle = undefined;
    }
  }

  #arm(ms: number): void {
    this.#armed = true;
    this.#handle = this.#clock.setTimeout(this.#fire, ms);
  }

  readonly #fire = (): void => {
    this.#armed = false;
    this.#handle = undefined;
    if (this.#since < 0) return; // not reading: the next read arms it again
    const left = this.#since + this.#ms - this.#clock.now();
    if (left > 0) this.#arm(left);
    else this.#onStall();
  };
}
