// Credentials from a kubeconfig: TLS, tokens, token files, exec plugins and auth providers.
import { ConfigError } from '../internal/index.ts';
import { readChanged } from './changedFile.ts';
import { clientNodeCredentials } from './clientNodeCredentials.ts';
import type { Credentials, Prepared } from './credentials.ts';
import { type ExecResult, runExecPlugin } from './execCredential.ts';
import { readKubeconfig } from './kubeconfigFile.ts';
import type { Kubeconfig } from './kubeconfigModel.ts';

export type { Kubeconfig } from './kubeconfigModel.ts';

function bytes(data: Buffer | undefined, file: string | undefined): Buffer | undefined {
  return data ?? (file ? readChanged(file) : undefined);
}

function impersonation(kc: Kubeconfig): Record<string, string> {
  const { user, uid, groups, extra } = kc.user.impersonate;
  const h: Record<string, string> = {};
  if (user) h['Impersonate-User'] = user;
  if (uid) h['Impersonate-Uid'] = uid;
  // undici takes one value per header name here; several groups are joined as one list.
  if (groups.length > 0) h['Impersonate-Group'] = groups.join(',');
  for (const [k, vs] of Object.entries(extra)) h[`Impersonate-Extra-${encodeURIComponent(k)}`] = vs.join(',');
  return h;
}

/**
 * Credentials from kwatch's own kubeconfig: TLS from the cluster (the CA, `tls-server-name`,
 * `insecure-skip-tls-verify` only when the kubeconfig says so), then the user's client
 * certificate (data or files, re-read when they change), bearer token, token file (re-read when
 * it changes), basic auth, or exec plugin (run once, again when its credential expires or after
 * a 401; one run at a time). An auth-provider (oidc, …) is handed to @kubernetes/client-node,
 * which is loaded then and only then.
 *
 * @example
 * ```ts
 * const credentials = kubeconfigCredentials(readKubeconfig());
 * const { server, headers, endpoint } = await credentials.prepare(true);
 * ```
 */
export function kubeconfigCredentials(kc: Kubeconfig): Credentials {
  const { cluster, user } = kc;
  if (user.authProvider) return authProviderCredentials(kc);
  let exec: ExecResult | undefined;
  let running: Promise<ExecResult> | undefined;
  const execCredential = async (): Promise<ExecResult> => {
    const config = user.exec;
    if (!config) throw new Error('unreachable');
    if (exec && (exec.expiresAt === undefined || Date.now() < exec.expiresAt)) return exec;
    running ??= runExecPlugin(config, cluster).finally(() => {
      running = undefined;
    });
    exec = await running;
    return exec;
  };
  const fixed = impersonation(kc);
  return {
    async prepare(): Promise<Prepared> {
      const headers: Record<string, string> = { ...fixed };
      let cert = bytes(user.clientCertificateData, user.clientCertificate);
      let key = bytes(user.clientKeyData, user.clientKey);
      if (user.token) headers.Authorization = `Bearer ${user.token}`;
      else if (user.tokenFile) {
        const token = readChanged(user.tokenFile).toString('utf8').trim();
        if (!token) throw new ConfigError('CREDENTIALS_ERROR', `The token file ${user.tokenFile} is empty`);
        headers.Authorization = `Bearer ${token}`;
      } else if (user.username !== undefined && user.password !== undefined) {
        headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
      }
      if (user.exec && !headers.Authorization && !(cert && key)) {
        const got = await execCredential();
        if (got.token) headers.Authorization = `Bearer ${got.token}`;
        if (got.cert && got.key) {
          cert = got.cert;
          key = got.key;
        }
      }
      const endpoint = {
        server: cluster.server,
        ca: bytes(cluster.certificateAuthorityData, cluster.certificateAuthority),
        cert,
        key,
        servername: cluster.tlsServerName,
        rejectUnauthorized: cluster.insecureSkipTlsVerify ? false : undefined,
        proxyUrl: cluster.proxyUrl,
      };
      return { server: cluster.server, headers, endpoint };
    },
    refresh(): boolean {
      if (user.exec) {
        exec = undefined;
        return true;
      }
      return Boolean(user.tokenFile && !user.token); // the file may have been rotated since
    },
  };
}

/** An auth-provider user: client-node's KubeConfig of the same context, loaded on the first request. */
function authProviderCredentials(kc: Kubeconfig): Credentials {
  let inner: Promise<Credentials> | undefined;
  const load = () => {
    inner ??= import('@kubernetes/client-node').then(({ KubeConfig }) => {
      const config = new KubeConfig();
      config.loadFromString(JSON.stringify(kc.document));
      return clientNodeCredentials(config);
    });
    return inner;
  };
  return {
    prepare: async (http2) => (await load()).prepare(http2),
    refresh: () => true,
  };
}

let defaults: Credentials | undefined;

/**
 * The credentials of the default kubeconfig (as {@link readKubeconfig} finds it), shared by every
 * watcher and client that was given none: one exec plugin run serves them all. Read on the first
 * request; a failure to read is not kept (the next request reads again).
 */
export function defaultCredentials(): Credentials {
  if (!defaults) {
    let loaded: Credentials | undefined;
    const get = () => {
      loaded ??= kubeconfigCredentials(readKubeconfig());
      return loaded;
    };
    defaults = {
      prepare: async (http2) => get().prepare(http2),
      refresh: () => get().refresh(),
    };
  }
  return defaults;
}
