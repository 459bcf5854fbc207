// The options of a KubeClient: their declaration, rule, and defaults (DEFAULTS.client) applied in one place.
import type { KubeConfig } from '@kubernetes/client-node';
import { checkOptionRule, customRule, DEFAULTS, optionalRule, optionRules, strictRule } from '../internal/index.ts';
import type { Kubeconfig } from './kubeconfigModel.ts';
import type { Http2Health } from './nativeHttp.ts';

/**
 * Options of `new KubeClient(options)`. Every default is in `DEFAULTS.client`.
 *
 * @example
 * ```ts
 * new KubeClient({ kubeConfig: await readKubeconfig({ context: 'prod' }), readIdleMs: 10_000 });
 * ```
 */
export interface KubeClientOptions {
  /**
   * The cluster and credentials: a client-node `KubeConfig`, or kwatch's own {@link Kubeconfig}
   * from `readKubeconfig()`. Default: the kubeconfig kubectl would use (`KUBECONFIG`,
   * `~/.kube/config`, or the in-cluster service account), read on the first request.
   */
  readonly kubeConfig?: KubeConfig | Kubeconfig | undefined;
  /** Speak HTTP/2 when the server offers it (many requests share one connection). Default: `true`. */
  readonly http2?: boolean | undefined;
  /**
   * HTTP/2 health check (client-go's `ReadIdleTimeout`): an HTTP/2 connection that has read nothing for this long
   * is sent a PING, in ms. Default: `30_000` (30 s), client-go's. Connections through undici (a client-node
   * `KubeConfig`, a `proxy-url`) are not checked.
   */
  readonly readIdleMs?: number | undefined;
  /**
   * HTTP/2 health check (client-go's `PingTimeout`): a PING not answered within this long destroys the connection,
   * failing every request on it with a retryable `TransportError` `STALLED` (watchers reconnect on a new connection
   * and resume), in ms. Default: `15_000` (15 s), client-go's: a half-open connection is found within 45 s.
   */
  readonly pingTimeoutMs?: number | undefined;
}

/** {@link KubeClientOptions} with every default applied. */
export interface ResolvedKubeClientOptions {
  readonly kubeConfig: KubeConfig | Kubeconfig | undefined;
  readonly http2: boolean;
  readonly health: Http2Health;
}

const { boolean, positiveMs } = optionRules;

const KubeClientOptionsRule = strictRule({
  kubeConfig: optionalRule(
    customRule(
      (v) =>
        typeof (v as KubeConfig)?.getCurrentCluster === 'function' ||
        (typeof (v as Kubeconfig)?.cluster?.server === 'string' && typeof (v as Kubeconfig)?.user === 'object'),
      'a KubeConfig from @kubernetes/client-node or a Kubeconfig from readKubeconfig()',
    ),
  ),
  http2: optionalRule(boolean),
  readIdleMs: optionalRule(positiveMs),
  pingTimeoutMs: optionalRule(positiveMs),
});

/**
 * Validates `new KubeClient(options)`'s options and applies the defaults: an unknown or bad option is a
 * `KwatchError` `INVALID_OPTION` naming it.
 */
export function resolveKubeClientOptions(options: KubeClientOptions | undefined): ResolvedKubeClientOptions {
  checkOptionRule(KubeClientOptionsRule, options, 'the KubeClient options');
  const o = options ?? {};
  return {
    kubeConfig: o.kubeConfig,
    http2: o.http2 ?? DEFAULTS.client.http2,
    health: Object.freeze({
      readIdleMs: o.readIdleMs ?? DEFAULTS.client.readIdleMs,
      pingTimeoutMs: o.pingTimeoutMs ?? DEFAULTS.client.pingTimeoutMs,
    }),
  };
}
