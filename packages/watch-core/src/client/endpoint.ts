// Endpoint: how to reach one API server as one TLS identity, the key of its connections.
/** How to reach one API server as one TLS identity; every field takes part in the connection's identity. */
export interface Endpoint {
  /** The server's base URL (it may have a path, as behind Rancher: `https://host/k8s/clusters/c-1`). */
  readonly server: string;
  readonly ca?: Buffer | undefined;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
  /** The name to verify the server's certificate against (kubeconfig `tls-server-name`). */
  readonly servername?: string | undefined;
  /** `false` only when the kubeconfig says `insecure-skip-tls-verify: true`. */
  readonly rejectUnauthorized?: boolean | undefined;
  /** An HTTP(S) proxy (kubeconfig `proxy-url`). */
  readonly proxyUrl?: string | undefined;
}
