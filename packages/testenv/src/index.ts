// @kwatch/testenv: a real control plane, fault proxies, a scripted server and the simulated apiserver.
export {
  type Binaries,
  type BuildProgress,
  type Component,
  describeBuildProgress,
  type EnsureBinariesOptions,
  ensureBinaries,
} from './build.ts';
export { ConnectProxy, type ConnectProxyOptions, startConnectProxy } from './connectProxy.ts';
export {
  attachControlPlane,
  ControlPlane,
  type ControlPlaneOptions,
  type ControlPlaneState,
  saveState,
  startControlPlane,
  USERS,
} from './controlPlane.ts';
export { type InstalledCrd, installCRD } from './crd.ts';
export { TestenvError, type TestenvErrorCode } from './errors.ts';
export {
  FaultProxy,
  type InjectedFailure,
  startFaultProxy,
  startTcpFaultProxy,
  TcpFaultProxy,
} from './faultProxy.ts';
export { cacheDir } from './paths.ts';
export { freePort } from './ports.ts';
export {
  type ScriptedMode,
  type ScriptedRequestKind,
  ScriptedServer,
  type ScriptedServerOptions,
  startScriptedServer,
} from './scriptedServer.ts';
export {
  type ChangeType,
  type ChunkPolicy,
  DEFAULT_SIM_RESOURCES,
  defaultErrorFactory,
  INITIAL_EVENTS_END,
  ManualClock,
  type NewObject,
  type ObjectChange,
  type SimClock,
  type SimErrorFactory,
  type SimErrorMode,
  SimHttpError,
  type SimListPage,
  type SimModes,
  type SimRequest,
  type SimResource,
  type SimStatus,
  SimStreamBody,
  SimulatedApiServer,
  type SimulatedApiServerOptions,
  type StoredObject,
  statusOf,
  WELL_BEHAVED,
} from './sim/index.ts';
export { tcpConnectionIdsTo, tcpConnectionsTo } from './sockets.ts';
export { ETCD_VERSION, KUBERNETES_VERSION } from './versions.ts';
