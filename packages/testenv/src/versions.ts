// The pinned versions of kube-apiserver and etcd that kwatch tests against.
/**
 * The versions of the control plane that kwatch tests against. Each one is pinned
 * by a wrapper Go module under `packages/testenv/go/` (committed go.mod and go.sum).
 */
export const KUBERNETES_VERSION = 'v1.36.3';
/** The etcd server release built from `go.etcd.io/etcd/server/v3`. */
export const ETCD_VERSION = 'v3.6.16';
