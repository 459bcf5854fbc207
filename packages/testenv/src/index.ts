export { type BuildProgress, type Binaries, type Component, ensureBinaries, type EnsureBinariesOptions } from './build.ts';
export {
  attachControlPlane,
  ControlPlane,
  type ControlPlaneOptions,
  type ControlPlaneState,
  saveState,
  startControlPlane,
  USERS,
} from './controlPlane.ts';
export { TestenvError, type TestenvErrorCode } from './errors.ts';
export { freePort } from './ports.ts';
export { cacheDir } from './paths.ts';
export { ETCD_VERSION, KUBERNETES_VERSION } from './versions.ts';
