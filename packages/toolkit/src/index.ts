export { type DispatcherOptions, ListenerDispatcher } from './dispatcher.ts';
export { type LeaderElectionOptions, LeaderElector } from './leaderElection.ts';
export { EventListener, type ListenerContext, type ListenerSpec } from './listener.ts';
