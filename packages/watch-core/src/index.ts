export { Backoff, type BackoffOptions } from './backoff.ts';
export { type Clock, sleep, systemClock } from './clock.ts';
export {
  ApiError,
  apiErrorFrom,
  DecodeError,
  GoneError,
  isKwatchError,
  KindError,
  KwatchError,
  type KwatchErrorCode,
  TransportError,
} from './errors.ts';
export { isMarker, WatchEvent, type WatchEventType, type WatchMarker } from './events.ts';
export { type WaitUntilOptions, waitUntil, watchSingle } from './helpers.ts';
export { DEFAULT_MAX_LINE_BYTES, LineSplitter, parseWatchLine, type RawWatchEvent } from './lineDecoder.ts';
export type { WatcherHealth } from './machine.ts';
export {
  type ExceptionCallback,
  MultiplexedEvent,
  type MultiplexedEventOf,
  type MultiplexedMarker,
  MultiplexingWatcher,
  type MultiplexingWatcherOptions,
} from './multiplexer.ts';
export type { ConnectLimiter, StreamOptions, WatcherHooks, WatcherOptions } from './options.ts';
export { dropManagedFields, Store, type StoreOptions } from './store.ts';
export { kubeConfigTransport, type StreamBody, type WatchTransport } from './transport.ts';
export { Watcher } from './watcher.ts';
