// Resume across processes: load a saved resourceVersion, save what the consumer took (fileResume for scripts).
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Clock } from '../internal/index.ts';
import { KwatchError } from '../internal/index.ts';
import type { ResumeStore, StreamOptions } from './options.ts';

/**
 * A resumed stream saves at most once per this many ms (and once when it ends).
 *
 * @example
 * ```ts
 * console.log(`a crash replays at most ${RESUME_SAVE_INTERVAL_MS} ms of taken events`);
 * ```
 */
export const RESUME_SAVE_INTERVAL_MS = 1000;

/**
 * How long a stream that ends waits for its resume store's saves (the one in flight and the last), in ms. A store
 * that hangs longer does not hang the consumer's `break` or `return()`: the stream ends with `TIMEOUT`, and the
 * position saved last stands (older: a restart replays from there, nothing is lost).
 */
const RESUME_END_WAIT_MS = 5000;

/** What a load() raced against the consumer leaving gives when the consumer left first. */
const LEFT: unique symbol = Symbol('left');

/** What resuming needs of a watcher. */
interface Resumable {
  currentResourceVersion(): string | undefined;
  updateResourceVersion(resourceVersion: string): void;
}

/**
 * The resume side of a managed stream (internal: `watcher.stream({ resume })` uses it). It loads the starting
 * resourceVersion, and saves the watcher's committed position — what the consumer has taken, events and bookmarks —
 * at most once per {@link RESUME_SAVE_INTERVAL_MS} and once at the end. It can only save what was handed out:
 * the watcher commits an item when it is handed to the consumer, and after a save failed {@link beforeTake} refuses
 * the next item before it is taken, so the stream ends with the save's error and a new stream delivers that item
 * again. Nothing is lost to a failing store.
 */
export class Resumer {
  readonly #watcher: Resumable;
  readonly #store: ResumeStore;
  readonly #clock: Clock;
  #saved: string | undefined;
  #lastSaveAt = Number.NEGATIVE_INFINITY;
  #saving: Promise<void> | undefined;
  #failure: { error: unknown } | undefined;
  #timer: unknown;

  constructor(watcher: Resumable, store: ResumeStore, clock: Clock, options: StreamOptions) {
    if (options.manageResourceVersion === false) {
      throw new KwatchError('INVALID_OPTION', 'Expected `resume` on a managed stream, got `manageResourceVersion: false`');
    }
    this.#watcher = watcher;
    this.#store = store;
    this.#clock = clock;
  }

  /**
   * Before the first request: the saved position, unless the watcher already has one (it streamed in this process).
   * False when `signal` aborted first (the consumer left while the store was loading: a hanging load() keeps no one).
   */
  async load(signal: AbortSignal): Promise<boolean> {
    if (this.#watcher.currentResourceVersion() === undefined) {
      let onAbort: (() => void) | undefined;
      const left = new Promise<typeof LEFT>((resolve) => {
        onAbort = () => resolve(LEFT);
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
      const loaded = await Promise.race([this.#store.load(), left]).finally(() => {
        if (onAbort) signal.removeEventListener('abort', onAbort);
      });
      if (loaded === LEFT) return false;
      if (loaded) this.#watcher.updateResourceVersion(loaded);
    }
    this.#saved = this.#watcher.currentResourceVersion();
    // Bookmarks move the position without an item: a timer saves them too, once a second at most.
    const tick = (): void => {
      this.#save();
      this.#timer = this.#clock.setTimeout(tick, RESUME_SAVE_INTERVAL_MS);
    };
    this.#timer = this.#clock.setTimeout(tick, RESUME_SAVE_INTERVAL_MS);
    return true;
  }

  /** Before an item is taken: a failed save ends the stream here, so the item stays untaken (delivered again). */
  beforeTake(): void {
    if (this.#failure) throw this.#failure.error;
  }

  /** After an item was taken: saves when the last save is a second old. */
  afterTake(): void {
    if (this.#clock.now() - this.#lastSaveAt >= RESUME_SAVE_INTERVAL_MS) this.#save();
  }

  /**
   * When the stream ends, however: saves what was taken last; throws a save's failure (also on `break`), or `TIMEOUT`
   * when the saves take longer than {@link RESUME_END_WAIT_MS}.
   */
  async finish(): Promise<void> {
    this.#clock.clearTimeout(this.#timer);
    const saved = (async () => {
      await this.#saving;
      this.#save();
      await this.#saving;
    })();
    let timer: unknown;
    const late = new Promise<boolean>((resolve) => {
      timer = this.#clock.setTimeout(() => resolve(true), RESUME_END_WAIT_MS);
    });
    const timedOut = await Promise.race([saved.then(() => false), late]);
    this.#clock.clearTimeout(timer);
    if (timedOut) {
      throw new KwatchError(
        'TIMEOUT',
        `The resume store's save() did not settle within ${RESUME_END_WAIT_MS} ms; the stream ended without it (the position saved before stands: a restart replays from there)`,
      );
    }
    if (this.#failure) throw this.#failure.error;
  }

  #save(): void {
    const rv = this.#watcher.currentResourceVersion();
    if (this.#saving || rv === undefined || rv === this.#saved) return;
    this.#lastSaveAt = this.#clock.now();
    this.#saving = this.#store.save(rv).then(
      () => {
        this.#saved = rv;
        this.#saving = undefined;
      },
      (error: unknown) => {
        this.#failure ??= { error };
        this.#saving = undefined;
      },
    );
  }
}

/**
 * A {@link ResumeStore} in a file, for scripts: the resourceVersion as text, written atomically
 * (a temporary file renamed over it), so a process killed at any moment leaves the old or the new
 * version, never half of one. A missing or empty file means "none saved".
 *
 * @example
 * ```ts
 * for await (const e of new Watcher(Pod).stream({ resume: fileResume('/var/lib/app/pods.rv'), markers: true })) handle(e);
 * ```
 */
export function fileResume(path: string): ResumeStore {
  if (typeof path !== 'string' || path === '') {
    throw new KwatchError('INVALID_OPTION', `Expected \`path\` to be a non-empty string, got ${String(path)}`);
  }
  return {
    async load() {
      try {
        const text = (await readFile(path, 'utf8')).trim();
        return text === '' ? undefined : text;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async save(resourceVersion) {
      const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        await writeFile(tmp, `${resourceVersion}\n`);
        await rename(tmp, path);
      } catch (error) {
        await rm(tmp, { force: true });
        throw error;
      }
    },
  };
}
