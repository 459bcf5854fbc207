export { type DispatcherOptions, ListenerDispatcher } from './dispatcher.ts';
export { type HealthServer, type HealthServerOptions, type HealthSource, startHealthServer } from './health.ts';
export { type LeaderElectionOptions, LeaderElector } from './leaderElection.ts';
export { EventListener, type ListenerContext, type ListenerSpec } from './listener.ts';
export { type RunOptions, StreamWatch } from './streamWatch.ts';
