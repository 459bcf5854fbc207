// Writes a self-contained kubeconfig (certificates embedded) for a control plane and its users.
import { writeFile } from 'node:fs/promises';
import { type CertPair, pemBase64 } from './certs.ts';

/** What {@link writeKubeconfig} needs: the server, its CA, and each user's certificate and token. */
export interface KubeconfigInput {
  readonly server: string;
  readonly caFile: string;
  readonly clients: Readonly<Record<string, CertPair>>;
  readonly tokens: Readonly<Record<string, string>>;
}

/**
 * Writes a self-contained kubeconfig (certificates embedded, mode 0600) with one context
 * per user and way of authenticating: `<user>` uses the client certificate,
 * `<user>-token` the bearer token. The current context is `admin`.
 *
 * JSON is valid YAML, so kubectl and every client library read it.
 */
export async function writeKubeconfig(path: string, input: KubeconfigInput): Promise<void> {
  const cluster = 'kwatch-testenv';
  const users: unknown[] = [];
  const contexts: unknown[] = [];
  for (const [name, pair] of Object.entries(input.clients)) {
    users.push({
      name,
      user: { 'client-certificate-data': await pemBase64(pair.certFile), 'client-key-data': await pemBase64(pair.keyFile) },
    });
    contexts.push({ name, context: { cluster, user: name } });
  }
  for (const [name, token] of Object.entries(input.tokens)) {
    users.push({ name: `${name}-token`, user: { token } });
    contexts.push({ name: `${name}-token`, context: { cluster, user: `${name}-token` } });
  }
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: input.server, 'certificate-authority-data': await pemBase64(input.caFile) } }],
    users,
    contexts,
    'current-context': 'admin',
    preferences: {},
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}
