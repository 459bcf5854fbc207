// @kwatch/controller: level-triggered reconcile on kwatch's shared informers.
export {
  Controller,
  type ControllerOptions,
  type ControllerStats,
  type EventOptions,
  EventRecorder,
  type FinalizerContext,
  type FinalizerOptions,
  ReconcileClient,
  type ReconcileContext,
  type ReconcileResult,
  type Relation,
  type RunOptions,
  related,
  TerminalError,
} from './controller/index.ts';
export { ItemBackoff, type Priority, type QueueObserver, TokenBucket, WorkQueue, type WorkQueueOptions } from './queue/index.ts';
