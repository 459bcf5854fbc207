export {
  type Binaries,
  type BuildProgress,
  type Component,
  describeBuildProgress,
  type EnsureBinariesOptions,
  ensureBinaries,
} from './build.ts';
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
export { FaultProxy, type InjectedFailure, startFaultProxy } from './faultProxy.ts';
export { cacheDir } from './paths.ts';
export { freePort } from './ports.ts';
export { tcpConnectionsTo } from './sockets.ts';
export { ETCD_VERSION, KUBERNETES_VERSION } from './versions.ts';
