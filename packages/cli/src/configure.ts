// From the command line and environment to a configured watch: settings, kubeconfig, kinds, plugin.
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { describeKind, type KubernetesKind, resourceFromCRD } from '@kwatch/models';
import {
  Discovery,
  loadConfig,
  loadPlugin,
  type PrometheusMetrics,
  prometheusMetrics,
  type WatcherConfig,
  type WatcherPlugin,
} from '@kwatch/toolkit';
import { isKwatchError, MultiplexingWatcher, Watcher } from '@kwatch/watch-core';
import type { CliOptions } from './args.ts';
import type { Io } from './io.ts';
import { kindFor } from './kinds.ts';
import { loadKubeconfig } from './kubeconfig.ts';

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3 } as const;
export type Level = keyof typeof LEVELS;

/** Everything a run needs, decided before anything is watched. */
export interface Setup {
  readonly options: CliOptions;
  readonly config: WatcherConfig;
  readonly kubeConfig: KubeConfig;
  /** `undefined`: all namespaces. */
  readonly namespace: string | undefined;
  readonly mux: MultiplexingWatcher<any>;
  readonly plugin: { readonly name: string; readonly module: WatcherPlugin; readonly config: Record<string, string> } | undefined;
  readonly log: (level: Level, line: string) => void;
  /** With `--metrics`: the Prometheus exporter the watchers record into. */
  readonly metrics: PrometheusMetrics | undefined;
}

/**
 * From the parsed command line and the environment to a configured watch: layered settings, the kubeconfig (never
 * through `process.env`), the kinds resolved by the cluster's discovery as kubectl resolves them, one watcher per
 * kind (cluster-scoped kinds without a namespace), the plugin. Throws `ConfigError` (toolkit's `exitCodeOf` gives its
 * exit code) or `KindError` (an unknown name, with close matches) before anything is watched.
 */
export async function configure(options: CliOptions, io: Io): Promise<Setup> {
  const config = loadConfig({
    env: io.env,
    ...(options.config ? { file: options.config } : {}),
    flags: {
      ...(options.kinds.length ? { resources: [...options.kinds] } : {}),
      ...(options.namespace ? { namespace: options.namespace } : {}),
      ...(options.plugin ? { plugin: options.plugin } : {}),
      ...(options.logLevel ? { logLevel: options.logLevel as Level } : {}),
    },
    requireResource: !options.crd,
  });
  const log = (level: Level, line: string): void => {
    if (LEVELS[level] >= LEVELS[config.logLevel]) io.err(`kwatch: ${line}`);
  };
  const kubeConfig = config.endpoint
    ? endpointKubeConfig(config)
    : loadKubeconfig({ path: options.kubeconfig, context: options.context, env: io.env });
  const contextNamespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  const namespace = options.allNamespaces ? undefined : (config.namespace ?? contextNamespace ?? 'default');

  const kinds: KubernetesKind[] = [];
  if (config.resources.length) {
    const discovery = new Discovery(kubeConfig);
    for (const name of config.resources) kinds.push(await kindFor(await discovery.resolve(name)));
  }
  if (options.crd) kinds.push(resourceFromCRD(readFileSync(options.crd, 'utf8')));

  const metrics = options.metrics ? await prometheusMetrics() : undefined;
  const mux = new MultiplexingWatcher({
    onCulled: (w, e) => log('error', `${w.target.info.plural}: ${isKwatchError(e) ? e.message : String(e)}`),
  });
  for (const kind of kinds) {
    const ns = describeKind(kind).namespaced ? namespace : undefined;
    mux.addWatcher(
      new Watcher(kind as never, {
        kubeConfig,
        ...(ns ? { namespace: ns as never } : {}),
        ...(options.selector ? { labelSelector: options.selector } : {}),
        ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
        ...(metrics ? { metrics: { meter: metrics.meter } } : {}),
        hooks: {
          reconnecting: ({ error, delayMs }) =>
            log('warn', `${error.code}: ${error.message}; retrying in ${(delayMs / 1000).toFixed(1)} s`),
        },
      }),
    );
  }

  metrics?.observe(() => mux.watchers());

  const pluginName = config.plugin;
  const plugin = pluginName
    ? {
        name: pluginName,
        module: await loadPlugin(pluginName),
        config: config.plugins[pluginName.replace(/^.*[\\/]/, '').replace(/\.[cm]?js$/, '')] ?? {},
      }
    : undefined;
  return { options, config, kubeConfig, namespace, mux, plugin, log, metrics };
}

function endpointKubeConfig(config: WatcherConfig): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: 'config', server: config.endpoint ?? '', ...(config.ca ? { caFile: config.ca } : {}), skipTLSVerify: false },
    ],
    users: [{ name: 'config', token: config.token }],
    contexts: [{ name: 'config', cluster: 'config', user: 'config' }],
    currentContext: 'config',
  });
  return kc;
}
