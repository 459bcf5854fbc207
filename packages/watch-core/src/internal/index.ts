// Layer 0, internal: what every layer shares — the clock, backoff, the error table, the event model.
// Imports nothing of kwatch's; entered only through this file.
export { Backoff, type BackoffOptions } from './backoff.ts';
export { type Clock, sleep, systemClock } from './clock.ts';
export {
  ApiError,
  apiErrorFrom,
  asKwatchError,
  ConfigError,
  DecodeError,
  ERROR_CODES,
  errorFor,
  GoneError,
  isKwatchError,
  KindError,
  KwatchError,
  type KwatchErrorCode,
  TransportError,
} from './errors.ts';
export {
  EventClass,
  isMarker,
  type ObjectEvent,
  type Tombstone,
  type TombstoneEvent,
  tombstoneEvent,
  WatchEvent,
  type WatchEventConstructor,
  type WatchEventType,
  type WatchMarker,
} from './events.ts';
export {
  asPartialObjectMetadata,
  type KindWithObjects,
  type MetadataOnlyKind,
  type PartialObjectMetadata,
} from './partialObjectMetadata.ts';
export { LiveStream, type LiveStreamSource } from './stream.ts';
