// Reads the kubeconfig kubectl would use (KUBECONFIG or ~/.kube/config), merged, without client-node.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../internal/index.ts';
import { inClusterKubeconfig } from './inCluster.ts';
import type { ExecConfig, Kubeconfig, KubeconfigCluster, KubeconfigUser } from './kubeconfigModel.ts';

/** Options of {@link readKubeconfig}. */
export interface ReadKubeconfigOptions {
  /** One kubeconfig file (as `kubectl --kubeconfig`); it must exist. Default: `KUBECONFIG`, then `~/.kube/config`, then in-cluster. */
  readonly path?: string | undefined;
  /** The context to use (as `kubectl --context`). Default: the kubeconfig's `current-context`. */
  readonly context?: string | undefined;
  /** The environment to read `KUBECONFIG`, `HOME` and the in-cluster variables from. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
}

type Doc = Record<string, unknown>;
type Named = { name: string; value: Doc };

function fail(file: string, what: string): never {
  throw new ConfigError('KUBECONFIG_ERROR', `The kubeconfig ${file} ${what}`);
}

function parse(file: string): Doc {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    fail(file, `cannot be read (${(err as { code?: string }).code ?? 'error'})`);
  }
  if (text.trim() === '') return {};
  let doc: unknown;
  try {
    doc = /^\s*\{/.test(text) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    // Never the error's own message: it may quote the file, and the file holds credentials.
    const pos = (err as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    fail(file, `is not valid ${/^\s*\{/.test(text) ? 'JSON' : 'YAML'}${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) fail(file, 'is not a mapping (apiVersion, clusters, users, contexts)');
  return doc as Doc;
}

/** YAML, loaded only for kubeconfigs that are not JSON. */
function parseYaml(text: string): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  const docs = yaml.parseAllDocuments(text);
  const first = Array.isArray(docs) ? docs[0] : docs;
  if (!first) return undefined;
  if (first.errors.length > 0) throw first.errors[0];
  return first.toJS();
}

const str = (file: string, where: string, v: unknown): string | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') fail(file, `${where} must be a string`);
  return v;
};

function named(file: string, doc: Doc, list: 'clusters' | 'users' | 'contexts', inner: string): Named[] {
  const items = doc[list];
  if (items === undefined || items === null) return [];
  if (!Array.isArray(items)) fail(file, `${list} must be a list`);
  return items.map((item: unknown, i) => {
    const o = item as Doc;
    if (typeof o !== 'object' || o === null) fail(file, `${list}[${i}] must be a mapping`);
    const name = str(file, `${list}[${i}].name`, o.name);
    if (!name) fail(file, `${list}[${i}] has no name`);
    const value = (o[inner] ?? {}) as Doc;
    if (typeof value !== 'object' || Array.isArray(value)) fail(file, `${list}[${i}].${inner} must be a mapping`);
    return { name, value: { ...value, __file: file } };
  });
}

/** Makes a kubeconfig path absolute, relative to its file's directory (kubectl's rule). */
function pathIn(file: string, p: string | undefined): string | undefined {
  if (p === undefined) return undefined;
  const expanded = p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
  return isAbsolute(expanded) ? expanded : resolve(dirname(file), expanded);
}

function base64(file: string, where: string, v: unknown): Buffer | undefined {
  const s = str(file, where, v);
  if (s === undefined) return undefined;
  if (!/^[A-Za-z0-9+/=\s_-]*$/.test(s)) fail(file, `${where} is not base64`);
  return Buffer.from(s, 'base64');
}

function clusterOf(file: string, name: string, c: Doc): KubeconfigCluster {
  const where = `clusters[${name}].cluster`;
  const server = str(file, `${where}.server`, c.server);
  if (!server) fail(file, `${where} has no server`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    fail(file, `${where}.server is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(file, `${where}.server must be http(s)`);
  const insecure = c['insecure-skip-tls-verify'];
  if (insecure !== undefined && typeof insecure !== 'boolean')
    fail(file, `${where}.insecure-skip-tls-verify must be true or false`);
  const extensions = Array.isArray(c.extensions) ? (c.extensions as Doc[]) : [];
  const exec = extensions.find((e) => e?.name === 'client.authentication.k8s.io/exec');
  return {
    name,
    server: server.replace(/\/+$/, ''),
    certificateAuthorityData: base64(file, `${where}.certificate-authority-data`, c['certificate-authority-data']),
    certificateAuthority: pathIn(file, str(file, `${where}.certificate-authority`, c['certificate-authority'])),
    insecureSkipTlsVerify: insecure === true,
    tlsServerName: str(file, `${where}.tls-server-name`, c['tls-server-name']),
    proxyUrl: str(file, `${where}.proxy-url`, c['proxy-url']),
    execExtension: exec?.extension,
  };
}

function execOf(file: string, name: string, e: unknown): ExecConfig | undefined {
  if (e === undefined || e === null) return undefined;
  const where = `users[${name}].user.exec`;
  if (typeof e !== 'object') fail(file, `${where} must be a mapping`);
  const x = e as Doc;
  const apiVersion = str(file, `${where}.apiVersion`, x.apiVersion);
  if (apiVersion !== 'client.authentication.k8s.io/v1' && apiVersion !== 'client.authentication.k8s.io/v1beta1') {
    fail(file, `${where}.apiVersion must be client.authentication.k8s.io/v1 or v1beta1`);
  }
  const command = str(file, `${where}.command`, x.command);
  if (!command) fail(file, `${where} has no command`);
  const args = x.args ?? [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) fail(file, `${where}.args must be a list of strings`);
  const env = x.env ?? [];
  if (!Array.isArray(env) || env.some((v) => typeof v?.name !== 'string' || typeof v?.value !== 'string')) {
    fail(file, `${where}.env must be a list of {name, value}`);
  }
  return {
    apiVersion,
    command: command.includes('/') ? (pathIn(file, command) as string) : command,
    args: args as string[],
    env: env as ExecConfig['env'],
    installHint: str(file, `${where}.installHint`, x.installHint),
    provideClusterInfo: x.provideClusterInfo === true,
  };
}

function userOf(file: string, name: string, u: Doc): KubeconfigUser {
  const where = `users[${name}].user`;
  const provider = u['auth-provider'] as Doc | undefined;
  const groups = u['as-groups'] ?? [];
  if (!Array.isArray(groups)) fail(file, `${where}.as-groups must be a list`);
  return {
    name,
    clientCertificateData: base64(file, `${where}.client-certificate-data`, u['client-certificate-data']),
    clientCertificate: pathIn(file, str(file, `${where}.client-certificate`, u['client-certificate'])),
    clientKeyData: base64(file, `${where}.client-key-data`, u['client-key-data']),
    clientKey: pathIn(file, str(file, `${where}.client-key`, u['client-key'])),
    token: str(file, `${where}.token`, u.token),
    tokenFile: pathIn(file, str(file, `${where}.tokenFile`, u.tokenFile)),
    username: str(file, `${where}.username`, u.username),
    password: str(file, `${where}.password`, u.password),
    exec: execOf(file, name, u.exec),
    authProvider: provider ? { name: str(file, `${where}.auth-provider.name`, provider.name) ?? '' } : undefined,
    impersonate: {
      ...(str(file, `${where}.as`, u.as) ? { user: u.as as string } : {}),
      ...(str(file, `${where}.as-uid`, u['as-uid']) ? { uid: u['as-uid'] as string } : {}),
      groups: groups as string[],
      extra: (u['as-user-extra'] ?? {}) as Record<string, string[]>,
    },
  };
}

/** The files kubectl would read: `KUBECONFIG` (several, merged; missing ones skipped) or `~/.kube/config`. */
function kubeconfigFiles(env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  if (env.KUBECONFIG) return env.KUBECONFIG.split(delimiter).filter(Boolean);
  return [join(env.HOME || homedir(), '.kube', 'config')];
}

/**
 * Reads the kubeconfig kubectl would use, without @kubernetes/client-node: `path`, else the
 * files of `KUBECONFIG` merged as kubectl merges them (for each cluster, user and context name
 * and for `current-context`, the first file that sets it wins; missing files are skipped), else
 * `~/.kube/config`, else the in-cluster service account (`KUBERNETES_SERVICE_HOST`/`_PORT`).
 * Relative paths are relative to the file that holds them. A missing or malformed kubeconfig is
 * a `ConfigError` `KUBECONFIG_ERROR` naming the file and the field, never a value.
 *
 * @example
 * ```ts
 * const kc = readKubeconfig({ context: 'staging' });
 * new Watcher(Pod, { kubeConfig: kc, namespace: kc.namespace ?? 'default' });
 * ```
 */
export function readKubeconfig(options: ReadKubeconfigOptions = {}): Kubeconfig {
  const env = options.env ?? process.env;
  const candidates = options.path ? [resolve(options.path)] : kubeconfigFiles(env).map((f) => resolve(f));
  const files = options.path ? candidates : candidates.filter((f) => existsSync(f));
  if (options.path && !existsSync(options.path)) fail(options.path, 'does not exist');
  if (files.length === 0) {
    const inCluster = inClusterKubeconfig(env);
    if (inCluster) return inCluster;
    throw new ConfigError(
      'KUBECONFIG_ERROR',
      `No kubeconfig found: looked at ${candidates.join(', ')} (${env.KUBECONFIG ? 'KUBECONFIG' : 'KUBECONFIG is not set'}) and found no in-cluster service account (KUBERNETES_SERVICE_HOST)`,
    );
  }
  const clusters = new Map<string, Doc>();
  const users = new Map<string, Doc>();
  const contexts = new Map<string, Doc>();
  let current: string | undefined;
  for (const file of files) {
    const doc = parse(file);
    for (const [list, inner, into] of [
      ['clusters', 'cluster', clusters],
      ['users', 'user', users],
      ['contexts', 'context', contexts],
    ] as const) {
      for (const { name, value } of named(file, doc, list, inner)) if (!into.has(name)) into.set(name, value);
    }
    current ??= str(file, 'current-context', doc['current-context']);
  }
  const shown = files.join(delimiter);
  const contextName = options.context ?? current;
  if (!contextName) fail(shown, 'has no current-context (pass a context)');
  const context = contexts.get(contextName);
  if (!context) fail(shown, `has no context named '${contextName}'`);
  const ctxFile = context.__file as string;
  const clusterName = str(ctxFile, `contexts[${contextName}].context.cluster`, context.cluster);
  const cluster = clusterName ? clusters.get(clusterName) : undefined;
  if (!cluster) fail(shown, `has no cluster named '${clusterName ?? ''}' (context '${contextName}')`);
  const userName = str(ctxFile, `contexts[${contextName}].context.user`, context.user);
  const user = userName ? users.get(userName) : undefined;
  if (userName && !user) fail(shown, `has no user named '${userName}' (context '${contextName}')`);
  const resolvedCluster = clusterOf(cluster.__file as string, clusterName as string, cluster);
  const resolvedUser = userOf((user?.__file as string) ?? ctxFile, userName ?? '', user ?? {});
  return {
    context: contextName,
    namespace: str(ctxFile, `contexts[${contextName}].context.namespace`, context.namespace),
    cluster: resolvedCluster,
    user: resolvedUser,
    files,
    document: documentFor(contextName, resolvedCluster, resolvedUser, user ?? {}),
  };
}

/** One self-contained document (absolute paths) of the chosen context, for client-node's auth-provider plugins. */
function documentFor(context: string, c: KubeconfigCluster, u: KubeconfigUser, rawUser: Doc): Doc {
  const { __file: _, ...user } = rawUser;
  for (const [k, v] of [
    ['client-certificate', u.clientCertificate],
    ['client-key', u.clientKey],
    ['tokenFile', u.tokenFile],
  ] as const) {
    if (v) user[k] = v;
  }
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: c.name,
        cluster: {
          server: c.server,
          ...(c.certificateAuthorityData ? { 'certificate-authority-data': c.certificateAuthorityData.toString('base64') } : {}),
          ...(c.certificateAuthority ? { 'certificate-authority': c.certificateAuthority } : {}),
          ...(c.insecureSkipTlsVerify ? { 'insecure-skip-tls-verify': true } : {}),
          ...(c.tlsServerName ? { 'tls-server-name': c.tlsServerName } : {}),
          ...(c.proxyUrl ? { 'proxy-url': c.proxyUrl } : {}),
        },
      },
    ],
    users: [{ name: u.name, user }],
    contexts: [{ name: context, context: { cluster: c.name, user: u.name } }],
    'current-context': context,
  };
}
