// The parts of a kubeconfig kwatch reads: clusters, users and exec plugins, as plain data.
/** An exec credential plugin, as the kubeconfig declares it (client.authentication.k8s.io). */
export interface ExecConfig {
  readonly apiVersion: string;
  /** Resolved: relative commands with a slash are relative to the kubeconfig's directory. */
  readonly command: string;
  readonly args: readonly string[];
  readonly env: readonly { readonly name: string; readonly value: string }[];
  readonly installHint: string | undefined;
  readonly provideClusterInfo: boolean;
}

/** The cluster of the chosen context; file paths are absolute. */
export interface KubeconfigCluster {
  readonly name: string;
  /** The server's base URL, without a trailing slash. */
  readonly server: string;
  readonly certificateAuthorityData: Buffer | undefined;
  readonly certificateAuthority: string | undefined;
  /** True only when the kubeconfig says `insecure-skip-tls-verify: true`. */
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName: string | undefined;
  readonly proxyUrl: string | undefined;
  /** `extensions[client.authentication.k8s.io/exec].extension`, passed to exec plugins with `provideClusterInfo`. */
  readonly execExtension: unknown;
}

/** The user of the chosen context; file paths are absolute. Never logged. */
export interface KubeconfigUser {
  readonly name: string;
  readonly clientCertificateData: Buffer | undefined;
  readonly clientCertificate: string | undefined;
  readonly clientKeyData: Buffer | undefined;
  readonly clientKey: string | undefined;
  readonly token: string | undefined;
  readonly tokenFile: string | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly exec: ExecConfig | undefined;
  /** An auth-provider plugin (oidc, …): served by @kubernetes/client-node, loaded for it only. */
  readonly authProvider: { readonly name: string } | undefined;
  readonly impersonate: { user?: string; uid?: string; groups: readonly string[]; extra: Record<string, string[]> };
}

/**
 * A kubeconfig as kwatch reads it without @kubernetes/client-node: the chosen context's
 * cluster, user and namespace, from one file or several merged as kubectl merges them.
 * Made by {@link readKubeconfig}; pass it as `kubeConfig` to a Watcher or a `KubeClient`.
 */
export interface Kubeconfig {
  /** The context's name (`''` in-cluster). */
  readonly context: string;
  /** The context's namespace, if it names one. */
  readonly namespace: string | undefined;
  readonly cluster: KubeconfigCluster;
  readonly user: KubeconfigUser;
  /** The files it was read from (for messages). */
  readonly files: readonly string[];
  /** The merged document with absolute paths, for client-node when an auth-provider needs it. */
  readonly document: Readonly<Record<string, unknown>>;
}
