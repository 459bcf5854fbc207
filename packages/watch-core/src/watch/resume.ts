import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Clock, WatchEvent, WatchMarker } from '../internal/index.ts';
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

/** What resuming needs of a watcher. */
interface Resumable<T> {
  currentResourceVersion(): string | undefined;
  updateResourceVersion(resourceVersion: string): void;
  stream(options: StreamOptions): AsyncGenerator<WatchEvent<T> | WatchMarker, void, undefined>;
}

/**
 * A managed stream that loads its starting resourceVersion from `resume` and saves what the
 * consumer has taken (events and bookmarks: the watcher's committed position), throttled to one save
 * per {@link RESUME_SAVE_INTERVAL_MS} and one at the end. A save that rejects ends the stream with its error.
 * Internal: `watcher.stream({ resume })` calls it.
 */
export async function* resumed<T>(
  watcher: Resumable<T>,
  options: StreamOptions,
  resume: ResumeStore,
  clock: Clock,
): AsyncGenerator<WatchEvent<T> | WatchMarker, void, undefined> {
  const { resume: _resume, ...rest } = options;
  if (rest.manageResourceVersion === false) {
    throw new KwatchError('INVALID_OPTION', 'Expected `resume` on a managed stream, got `manageResourceVersion: false`');
  }
  // A watcher that already has a position (it streamed in this process) knows better than the saved one.
  if (watcher.currentResourceVersion() === undefined) {
    const loaded = await resume.load();
    if (loaded) watcher.updateResourceVersion(loaded);
  }
  let saved = watcher.currentResourceVersion();
  let lastSaveAt = Number.NEGATIVE_INFINITY;
  let saving: Promise<void> | undefined;
  let failure: { error: unknown } | undefined;
  let timer: unknown;

  const save = (): void => {
    const rv = watcher.currentResourceVersion();
    if (saving || rv === undefined || rv === saved) return;
    lastSaveAt = clock.now();
    saving = resume.save(rv).then(
      () => {
        saved = rv;
        saving = undefined;
      },
      (error: unknown) => {
        failure ??= { error };
        saving = undefined;
      },
    );
  };
  // Bookmarks move the position without an item: a timer saves them too, once a second at most.
  const tick = (): void => {
    save();
    timer = clock.setTimeout(tick, RESUME_SAVE_INTERVAL_MS);
  };
  timer = clock.setTimeout(tick, RESUME_SAVE_INTERVAL_MS);

  try {
    for await (const item of watcher.stream(rest)) {
      if (failure) throw failure.error;
      yield item;
      if (clock.now() - lastSaveAt >= RESUME_SAVE_INTERVAL_MS) save();
    }
  } finally {
    clock.clearTimeout(timer);
    await saving;
    save(); // what was taken last
    await saving;
    // biome-ignore lint/correctness/noUnsafeFinally: a failed save must not pass silently, also on `break`
    if (failure) throw failure.error;
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
