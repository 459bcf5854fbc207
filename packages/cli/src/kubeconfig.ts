// The kubeconfig kubectl would use, read from the CLI's environment (never by changing process.env).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { DEFAULTS } from '@kwatch/toolkit';
import { ConfigError } from '@kwatch/watch-core';

/** Where the in-cluster service account's token is mounted. */
export const SERVICE_ACCOUNT_TOKEN = `${DEFAULTS.config.serviceAccountDir}/token`;

/** What {@link loadKubeconfig} reads. */
export interface KubeconfigSource {
  /** `--kubeconfig`. */
  readonly path?: string | undefined;
  /** `--context`. */
  readonly context?: string | undefined;
  /** The environment: `KUBECONFIG`, `HOME`, `KUBERNETES_SERVICE_HOST`. */
  readonly env: Record<string, string | undefined>;
}

/** Every failure to find or read the kubeconfig: `KUBECONFIG_ERROR`, exit code 36 (`EXIT_CODES.badKubeconfig`). */
const fail = (message: string): ConfigError => new ConfigError('KUBECONFIG_ERROR', message);

/**
 * The kubeconfig kubectl would use — `--kubeconfig`, else the files of `$KUBECONFIG` (merged, the first wins), else
 * `~/.kube/config`, else the in-cluster service account — read from `source.env`, never by changing `process.env`.
 * Every failure is a `ConfigError` `KUBECONFIG_ERROR` (exit code 36) that says which file and why, or where it looked.
 */
export function loadKubeconfig(source: KubeconfigSource): KubeConfig {
  const kc = new KubeConfig();
  const { env } = source;
  let where: string;
  if (source.path) {
    where = source.path;
    readInto(kc, source.path, '--kubeconfig');
  } else if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(delimiter).filter(Boolean);
    const existing = files.filter((f) => existsSync(f));
    if (existing.length === 0) throw fail(`no kubeconfig found: no file of $KUBECONFIG exists (${files.join(', ')})`);
    where = existing.join(delimiter);
    readInto(kc, existing[0] as string, '$KUBECONFIG');
    for (const file of existing.slice(1)) {
      const more = new KubeConfig();
      readInto(more, file, '$KUBECONFIG');
      kc.mergeConfig(more, true);
    }
  } else {
    const file = join(env.HOME || homedir(), '.kube', 'config');
    if (existsSync(file)) {
      where = file;
      readInto(kc, file, 'default');
    } else if (env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) {
      where = 'the in-cluster service account';
      kc.loadFromCluster();
    } else {
      const inCluster = env.KUBERNETES_SERVICE_HOST
        ? `${SERVICE_ACCOUNT_TOKEN} does not exist`
        : 'KUBERNETES_SERVICE_HOST is not set';
      throw fail(
        `no kubeconfig found: looked at $KUBECONFIG (not set), ${file} (no such file) and the in-cluster service account (${inCluster}); pass --kubeconfig <file> or set KUBECONFIG`,
      );
    }
  }
  if (source.context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(source.context)) {
      throw fail(`context '${source.context}' is not in the kubeconfig ${where} (it has: ${names.join(', ') || 'none'})`);
    }
    kc.setCurrentContext(source.context);
  }
  const current = kc.getCurrentContext();
  if (!current || !kc.getContextObject(current)) {
    throw fail(
      `the kubeconfig ${where} has no current context; pass --context (it has: ${
        kc
          .getContexts()
          .map((c) => c.name)
          .join(', ') || 'none'
      })`,
    );
  }
  if (!kc.getCurrentCluster()) throw fail(`context '${current}' of the kubeconfig ${where} names no cluster it defines`);
  return kc;
}

function readInto(kc: KubeConfig, file: string, via: string): void {
  if (!existsSync(file)) throw fail(`kubeconfig ${file} (${via}) does not exist`);
  try {
    kc.loadFromFile(file);
  } catch (err) {
    const e = err as Error & { reason?: string; mark?: { line?: number } };
    if (e.name === 'YAMLException') {
      const line = e.mark?.line === undefined ? '' : ` at line ${e.mark.line + 1}`;
      throw fail(`kubeconfig ${file} (${via}) is not valid YAML${line}: ${e.reason ?? e.message.split('\n')[0]}`);
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EISDIR') throw fail(`kubeconfig ${file} (${via}) cannot be read (${code})`);
    throw fail(`kubeconfig ${file} (${via}) is not a valid kubeconfig: ${e.message.split('\n')[0]}`);
  }
}
