export { Backoff, type BackoffOptions } from './backoff.ts';
export { KubeClient, type KubeClientOptions, type KubeMethod, type KubeRequest } from './client.ts';
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
  isMarker,
  type ObjectEvent,
  type Tombstone,
  type TombstoneEvent,
  WatchEvent,
  type WatchEventConstructor,
  type WatchEventType,
  type WatchMarker,
} from './events.ts';
export type { WatcherHealth } from './health.ts';
export { type WaitUntilOptions, waitUntil, watchSingle } from './helpers.ts';
export {
  InformerFactory,
  type InformerFactoryOptions,
  type InformerOptions,
  type InformerStreamOptions,
  type SharedWatcherOptions,
  type SharedWatchInfo,
} from './informers.ts';
export { loadDefaultKubeConfig } from './kubeconfig.ts';
export {
  type ExecConfig,
  type Kubeconfig,
  type KubeconfigCluster,
  type KubeconfigUser,
  type ReadKubeconfigOptions,
  readKubeconfig,
} from './kubeconfigFile.ts';
export { DEFAULT_MAX_LINE_BYTES, LineSplitter, parseWatchLine, type RawWatchEvent } from './lineDecoder.ts';
export { METRICS, type MetricsOptions } from './metrics.ts';
export {
  type Culled,
  type ExceptionCallback,
  type MultiplexedEvent,
  type MultiplexedEventOf,
  type MultiplexedMarker,
  MultiplexingWatcher,
  type MultiplexingWatcherConstructor,
  type MultiplexingWatcherOptions,
} from './multiplexer.ts';
export { HTTP2_HEALTH_DEFAULTS, type Http2Health } from './nativeHttp.ts';
export {
  type ConnectLimiter,
  DEFAULTS,
  type ResumeStore,
  type StreamOptions,
  type WatcherHooks,
  type WatcherOptions,
} from './options.ts';
export { PACING } from './pacer.ts';
export type { PartialObjectMetadata } from './partialObjectMetadata.ts';
export { fileResume, RESUME_SAVE_INTERVAL_MS } from './resume.ts';
export { SharedStore } from './sharedStore.ts';
export { dropManagedFields, Store, type StoreChange, type StoreEventsOptions, type StoreOptions } from './store.ts';
export type { IndexFunc } from './storeIndex.ts';
export { kubeConfigTransport, type StreamBody, type WatchTransport } from './transport.ts';
export { Watcher, type WatcherConstructor } from './watcherConstructor.ts';
