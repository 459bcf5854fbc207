// The controller layer: Controller on shared informers, TerminalError.
export {
  Controller,
  type ControllerOptions,
  type ControllerStats,
  type ReconcileContext,
  type ReconcileResult,
  type RunOptions,
  TerminalError,
} from './controller.ts';
export { ReconcileClient } from './readYourWrites.ts';
