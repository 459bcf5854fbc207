export { ConfigError, type ConfigInputs, EXIT_CODES, loadConfig, parseIni, type WatcherConfig } from './config.ts';
export {
  closeMatches,
  type DiscoveredResource,
  type DiscoverResourceOptions,
  Discovery,
  descriptorOf,
  discoverResource,
  resolveResourceName,
} from './discovery.ts';
export { type DispatcherOptions, ListenerDispatcher } from './dispatcher.ts';
export { type HealthServer, type HealthServerOptions, type HealthSource, startHealthServer } from './health.ts';
export { type LeaderElectionOptions, LeaderElector } from './leaderElection.ts';
export { EventListener, type ListenerContext, type ListenerSpec } from './listener.ts';
export { loadPlugin, type PluginContext, type PluginResult, type WatcherPlugin } from './plugin.ts';
export { type MultiTarget, type RunOptions, StreamWatch, type StreamWatchOptions } from './streamWatch.ts';
