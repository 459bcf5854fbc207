// client-node's KubeConfig loaded as kubectl would choose, for callers that want one.
import { createRequire } from 'node:module';
import type { KubeConfig } from '@kubernetes/client-node';
import { ConfigError } from '../internal/index.ts';

/**
 * client-node's `KubeConfig` loaded as kubectl would choose (`KUBECONFIG`, `~/.kube/config`, or
 * the in-cluster service account). It loads @kubernetes/client-node (~90 MB, ~0.4 s), which
 * kwatch otherwise avoids: prefer `readKubeconfig()`, which reads the same files without it and
 * is what a Watcher uses by default. One that cannot be read or parsed is a `ConfigError`
 * `KUBECONFIG_ERROR` naming the file and, for YAML, the line — never its text, which may hold a
 * credential.
 *
 * @example
 * ```ts
 * const kc = loadDefaultKubeConfig(); // throws ConfigError KUBECONFIG_ERROR for a malformed file
 * ```
 */
export function loadDefaultKubeConfig(): KubeConfig {
  const { KubeConfig: Ctor } = createRequire(import.meta.url)(
    '@kubernetes/client-node',
  ) as typeof import('@kubernetes/client-node');
  const kc = new Ctor();
  try {
    kc.loadFromDefault();
  } catch (err) {
    const e = err as { name?: string; code?: string; mark?: { line?: number; column?: number } };
    const where = process.env.KUBECONFIG || '~/.kube/config';
    const at = e.mark?.line === undefined ? '' : ` at line ${e.mark.line + 1}, column ${(e.mark.column ?? 0) + 1}`;
    const what = e.name === 'YAMLException' ? `is not valid YAML${at}` : `cannot be read (${e.code ?? e.name ?? 'error'})`;
    // No `cause`: a YAML error quotes the file, which may hold a credential.
    throw new ConfigError('KUBECONFIG_ERROR', `The kubeconfig (${where}) ${what}`);
  }
  return kc;
}
