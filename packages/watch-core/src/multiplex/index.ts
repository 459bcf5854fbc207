// Layer 3, multiplex: one stream of several watchers (MultiplexingWatcher).
// Imports only watch/, client/ and internal/; entered only through this file.
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
