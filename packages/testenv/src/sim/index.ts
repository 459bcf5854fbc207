// The simulated apiserver's public parts, as @kwatch/testenv re-exports them.
export type { ChunkPolicy } from './body.ts';
export { SimStreamBody } from './body.ts';
export { ManualClock, type SimClock } from './clock.ts';
export type { ChangeType, StoredObject } from './history.ts';
export type { SimListPage } from './list.ts';
export { type SimErrorMode, type SimModes, WELL_BEHAVED } from './modes.ts';
export type { NewObject, ObjectChange } from './objects.ts';
export type { SimRequest, SimulatedApiServerOptions } from './options.ts';
export { DEFAULT_SIM_RESOURCES, type SimResource } from './resources.ts';
export { SimulatedApiServer } from './server.ts';
export { defaultErrorFactory, type SimErrorFactory, SimHttpError, type SimStatus, statusOf } from './status.ts';
export { INITIAL_EVENTS_END } from './watch.ts';
