// The shape of any Kubernetes object and of its metadata, for kinds without a model class.
import type { IIoK8sApimachineryPkgApisMetaV1ObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';

/** Object metadata as the server sends it (timestamps are RFC 3339 strings). */
export type ObjectMeta = IIoK8sApimachineryPkgApisMetaV1ObjectMeta;

/**
 * Any Kubernetes object: the type of objects of kinds without a model class (custom
 * resources without a schema, a few built-ins kubernetes-models lacks). Every field the
 * server sent is kept.
 *
 * @example
 * ```ts
 * const name = (obj: KubernetesObject) => obj.metadata?.name;
 * ```
 */
export interface KubernetesObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}
