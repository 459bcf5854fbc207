// Runs a kubeconfig's exec credential plugin as kubectl does, for a token or a client certificate.
import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import { ConfigError } from '../internal/index.ts';
import type { ExecConfig, KubeconfigCluster } from './kubeconfigModel.ts';

/** What an exec plugin gave: a token and/or a client certificate, valid until `expiresAt` (ms) if set. */
export interface ExecResult {
  readonly token: string | undefined;
  readonly cert: Buffer | undefined;
  readonly key: Buffer | undefined;
  readonly expiresAt: number | undefined;
}

const MAX_OUTPUT = 1024 * 1024;

function fail(exec: ExecConfig, what: string): never {
  // The command's name only: its output (and possibly its arguments) may hold credentials.
  throw new ConfigError('CREDENTIALS_ERROR', `The exec credential plugin '${basename(exec.command)}' ${what}`);
}

/**
 * Runs an exec credential plugin as kubectl runs it (non-interactive): the kubeconfig's
 * command, args and env on top of ours, `KUBERNETES_EXEC_INFO` holding the ExecCredential
 * request (with the cluster when `provideClusterInfo`), its stdout an ExecCredential of the
 * same apiVersion (client.authentication.k8s.io/v1 or v1beta1). Failures are `ConfigError`
 * `CREDENTIALS_ERROR` naming the command, never its output.
 *
 * @example
 * ```ts
 * const { token, expiresAt } = await runExecPlugin(kc.user.exec, kc.cluster);
 * ```
 */
export function runExecPlugin(exec: ExecConfig, cluster: KubeconfigCluster): Promise<ExecResult> {
  const request = {
    apiVersion: exec.apiVersion,
    kind: 'ExecCredential',
    spec: {
      interactive: false,
      ...(exec.provideClusterInfo
        ? {
            cluster: {
              server: cluster.server,
              ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
              ...(cluster.insecureSkipTlsVerify ? { 'insecure-skip-tls-verify': true } : {}),
              ...(cluster.certificateAuthorityData
                ? { 'certificate-authority-data': cluster.certificateAuthorityData.toString('base64') }
                : {}),
              ...(cluster.proxyUrl ? { 'proxy-url': cluster.proxyUrl } : {}),
              ...(cluster.execExtension === undefined ? {} : { config: cluster.execExtension }),
            },
          }
        : {}),
    },
  };
  const env: Record<string, string | undefined> = { ...process.env };
  for (const { name, value } of exec.env) env[name] = value;
  env.KUBERNETES_EXEC_INFO = JSON.stringify(request);
  return new Promise((resolve, reject) => {
    const child = execFile(
      exec.command,
      [...exec.args],
      { env, maxBuffer: MAX_OUTPUT, encoding: 'utf8', windowsHide: true },
      (err, stdout) => {
        try {
          if (err) {
            const e = err as { code?: string | number; signal?: string };
            if (e.code === 'ENOENT') fail(exec, `was not found${exec.installHint ? `: ${exec.installHint}` : ''}`);
            fail(exec, `failed (${e.signal ? `signal ${e.signal}` : `exit code ${e.code ?? '?'}`})`);
          }
          resolve(parseCredential(exec, stdout));
        } catch (thrown) {
          reject(thrown);
        }
      },
    );
    child.stdin?.end();
  });
}

function parseCredential(exec: ExecConfig, stdout: string): ExecResult {
  let doc: { apiVersion?: unknown; kind?: unknown; status?: Record<string, unknown> };
  try {
    doc = JSON.parse(stdout);
  } catch {
    fail(exec, 'did not print an ExecCredential (not JSON)');
  }
  if (doc?.kind !== 'ExecCredential') fail(exec, 'did not print an ExecCredential (kind)');
  if (doc.apiVersion !== exec.apiVersion) fail(exec, `printed apiVersion ${String(doc.apiVersion)}, not ${exec.apiVersion}`);
  const s = doc.status ?? {};
  const text = (k: string) => (typeof s[k] === 'string' && s[k] !== '' ? (s[k] as string) : undefined);
  const token = text('token');
  const cert = text('clientCertificateData');
  const key = text('clientKeyData');
  if (!token && !(cert && key)) fail(exec, 'gave neither a token nor a client certificate and key');
  if (Boolean(cert) !== Boolean(key)) fail(exec, 'gave a client certificate without its key (or the reverse)');
  const expiry = text('expirationTimestamp');
  const expiresAt = expiry ? Date.parse(expiry) : undefined;
  if (expiresAt !== undefined && Number.isNaN(expiresAt)) fail(exec, 'gave an expirationTimestamp that is not a time');
  return {
    token,
    cert: cert ? Buffer.from(cert) : undefined,
    key: key ? Buffer.from(key) : undefined,
    expiresAt,
  };
}
