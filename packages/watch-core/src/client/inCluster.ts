// The in-cluster configuration: the API server and the service account mounted in a pod.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kubeconfig } from './kubeconfigModel.ts';

/** Where a pod's service account is mounted. */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The in-cluster configuration, as client-go's `InClusterConfig`: the API server at
 * `KUBERNETES_SERVICE_HOST`:`KUBERNETES_SERVICE_PORT`, the service account's CA, and its token
 * file (re-read when the kubelet rotates it). `undefined` when not running in a pod.
 *
 * @example
 * ```ts
 * const kc = inClusterKubeconfig(process.env); // undefined outside a pod
 * ```
 */
export function inClusterKubeconfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  dir: string = SERVICE_ACCOUNT_DIR,
): Kubeconfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(dir, 'token');
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const namespaceFile = join(dir, 'namespace');
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() || undefined : undefined;
  const caFile = join(dir, 'ca.crt');
  return {
    context: '',
    namespace,
    cluster: {
      name: 'in-cluster',
      server,
      certificateAuthorityData: undefined,
      certificateAuthority: existsSync(caFile) ? caFile : undefined,
      insecureSkipTlsVerify: false,
      tlsServerName: undefined,
      proxyUrl: undefined,
      execExtension: undefined,
    },
    user: {
      name: 'in-cluster',
      clientCertificateData: undefined,
      clientCertificate: undefined,
      clientKeyData: undefined,
      clientKey: undefined,
      token: undefined,
      tokenFile,
      username: undefined,
      password: undefined,
      exec: undefined,
      authProvider: undefined,
      impersonate: { groups: [], extra: {} },
    },
    files: [],
    document: {},
  };
}
