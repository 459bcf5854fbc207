// Layer 0, internal: what every layer shares — clock, backoff, errors, defaults, options checks, events.
// Imports only @kwatch/models (the error classes, in errors.ts); entered only through this file.
export { Backoff, type BackoffOptions } from './backoff.ts';
export { type Clock, sleep, systemClock } from './clock.ts';
export { DEFAULTS } from './defaults.ts';
export {
  ApiError,
  apiErrorFrom,
  asKwatchError,
  type CodesOf,
  ConfigError,
  DecodeError,
  ERROR_CODES,
  errorFor,
  GoneError,
  isKwatchError,
  KindError,
  KwatchError,
  type KwatchErrorClass,
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
export { changeBetween, changeOf, type Identity, keyOf, splitKey, tombstoneOf } from './objects.ts';
export {
  arrayRule,
  checkOptionRule,
  checkOptions,
  customRule,
  nullableRule,
  numberRule,
  type OptionShape,
  oneOfRule,
  optionalRule,
  optionRules,
  optionSchemas,
  requireOption,
  strictRule,
} from './options.ts';
export {
  asPartialObjectMetadata,
  type KindWithObjects,
  type MetadataOnlyKind,
  type PartialObjectMetadata,
} from './partialObjectMetadata.ts';
export { evenRanges, HASH_SPACE, type HashRange, inRanges, shardSelector, uidHash } from './shardHash.ts';
export { LiveStream } from './stream.ts';
