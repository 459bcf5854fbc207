// Layer 2, watch: one watch of one kind — the state machine, the line decoder, queries, pacing, resume, metrics.
// Imports only client/ and internal/; entered only through this file.
export type { WatcherHealth } from './health.ts';
export { type WaitUntilOptions, waitUntil, watchSingle } from './helpers.ts';
export type { WatcherHooks } from './hooks.ts';
export type { KnownView } from './knownObjects.ts';
export { DEFAULT_MAX_LINE_BYTES, LineSplitter, parseWatchLine, type RawWatchEvent } from './lineDecoder.ts';
export type { Entry } from './machine.ts';
export { METRICS, type MetricsOptions, type ObservedWatch, observeInformers, watchAttributes } from './metrics.ts';
export {
  type ConnectLimiter,
  type ResumeStore,
  resolveStreamOptions,
  type StreamOptions,
  type WatcherOptions,
  WatcherOptionsShape,
} from './options.ts';
export { PACING, Pacer } from './pacer.ts';
export { fileResume, RESUME_SAVE_INTERVAL_MS } from './resume.ts';
export { openSession, type Session, useKnownView, Watcher as WatcherClass } from './watcher.ts';
export { Watcher, type WatcherConstructor } from './watcherConstructor.ts';
