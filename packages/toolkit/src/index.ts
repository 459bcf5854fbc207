// @kwatch/toolkit: around the watch — configuration, discovery, listeners, health, leader election, plugins.
// Its errors are @kwatch/watch-core's (ConfigError included): import them from there.
export { type ConfigInputs, EXIT_CODES, exitCodeOf, loadConfig, parseIni, type WatcherConfig } from './config.ts';
export { DEFAULTS } from './defaults.ts';
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
export { type LeaderElectionOptions, LeaderElector, type StopLeadingOptions } from './leaderElection.ts';
export { EventListener, type ListenerContext, type ListenerSpec } from './listener.ts';
export { loadPlugin, type PluginContext, type PluginResult, type WatcherPlugin } from './plugin.ts';
export { type PrometheusMetrics, prometheusMetrics } from './prometheus.ts';
export { type MultiTarget, type RunOptions, StreamWatch, type StreamWatchOptions } from './streamWatch.ts';
