// @kwatch/models: kinds and their descriptors, watch targets, the object model, and kwatch's error classes.
export { builtinResource } from './builtin.ts';
export { type Adopter, adoptObject, modelAdopterFor, modelClassFor } from './decode.ts';
export { defineResource, type ResourceDefinition, type ResourceFromCrdOptions, resourceFromCRD } from './define.ts';
export { isResourceDescriptor, type ResourceDescriptor } from './descriptor.ts';
export {
  ApiError,
  type CodesOf,
  ConfigError,
  DecodeError,
  ERROR_CODES,
  GoneError,
  isKwatchError,
  KindError,
  KwatchError,
  type KwatchErrorClass,
  type KwatchErrorCode,
  TransportError,
} from './errors.ts';
export type { BuiltinKindMap } from './generated/kindMap.ts';
export { BUILTIN_RESOURCES, REGISTRY_KUBERNETES_VERSION } from './generated/registry.ts';
export type { CheckWatchable, KindFacts, KindName, KubernetesKind, NamespaceOption, WatchedObject } from './kinds.ts';
export { isLazyModel, lazyModel, realModel } from './lazyModel.ts';
export { describeKind, isKubernetesKind, type WatchTarget, type WatchTargetOptions, watchTarget } from './lookup.ts';
export type { KubernetesObject, ObjectMeta } from './object.ts';
export { collectionPath, type ResourceInfo } from './resource.ts';
export {
  isStatus,
  ObjectMetaSchema,
  type Status,
  StatusSchema,
  type WatchEventEnvelope,
  WatchEventEnvelopeSchema,
} from './schemas.ts';
