// The controller layer: Controller on shared informers, TerminalError.
export {
  Controller,
  type ControllerOptions,
  type ControllerStats,
  type ReconcileContext,
  type ReconcileResult,
  type Relation,
  type RunOptions,
  related,
  TerminalError,
} from './controller.ts';
export type { FinalizerContext, FinalizerOptions } from './finalizer.ts';
export { ReconcileClient } from './readYourWrites.ts';
export { type EventOptions, EventRecorder } from './recorder.ts';
