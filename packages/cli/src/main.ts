import { readFileSync } from 'node:fs';
import type { HealthServer, WatcherPlugin } from '@kwatch/toolkit';
import type { MultiplexedEvent } from '@kwatch/watch-core';
import { Command, Option } from 'commander';

/** Where the CLI writes; injectable for tests. */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  colour: boolean;
  env: Record<string, string | undefined>;
  /** Resolves when the user asks to stop (Ctrl-C). */
  interrupted: Promise<void>;
}

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3 } as const;

/** Runs `kwatch` with `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  const program = new Command('kwatch')
    .description('Watch Kubernetes resources: kwatch pods,namespaces -n web -l app=web')
    .argument('[kinds]', 'comma-separated kinds: pods, deployments.apps, horizontalpodautoscalers.v2.autoscaling')
    .option('-n, --namespace <namespace>', 'watch within this namespace (default: the context namespace)')
    .option('-A, --all-namespaces', 'watch across all namespaces')
    .option('-l, --selector <selector>', 'label selector, e.g. app=web')
    .option('--field-selector <selector>', 'field selector, e.g. status.phase=Running')
    .addOption(
      new Option('-o, --output <format>', 'table for people, json for pipes (one object per line)')
        .choices(['table', 'json'])
        .default('table'),
    )
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config, or in-cluster)')
    .option('--context <name>', 'kubeconfig context')
    .option('--crd <file>', 'also watch the custom resource of this CRD YAML file')
    .option('--plugin <name-or-path>', 'call handleEvent(ctx, event, config) of this plugin for every event')
    .option('--config <file>', 'ini or YAML configuration ([global], [plugin_<name>])')
    .option('--health-port <port>', 'serve /healthz and /readyz on 127.0.0.1:<port>', (v) => Number.parseInt(v, 10))
    .option('--leader-elect <lease>', 'watch only while holding this Lease (in the watch namespace)')
    .option('--log-level <level>', 'debug, info, warn or error')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    return code ?? 2;
  }
  const opts = program.opts<{
    namespace?: string;
    allNamespaces?: boolean;
    selector?: string;
    fieldSelector?: string;
    output: 'table' | 'json';
    kubeconfig?: string;
    context?: string;
    crd?: string;
    plugin?: string;
    config?: string;
    healthPort?: number;
    leaderElect?: string;
    logLevel?: string;
  }>();
  const kindsArg = program.args[0];
  // Loaded once the arguments parsed: --help and usage errors need none of it (~100 MB, ~0.5 s).
  const [
    { KubeConfig },
    { resourceFromCRD },
    { ConfigError, EXIT_CODES, LeaderElector, loadConfig, loadPlugin, startHealthServer },
    { isKwatchError, MultiplexingWatcher, Watcher },
    { jsonLine, tableHeader, tableLine },
    { modelClass, resolveResource },
  ] = await Promise.all([
    import('@kubernetes/client-node'),
    import('@kwatch/models'),
    import('@kwatch/toolkit'),
    import('@kwatch/watch-core'),
    import('./output.ts'),
    import('./resolve.ts'),
  ]);

  try {
    const config = loadConfig({
      env: io.env,
      ...(opts.config ? { file: opts.config } : {}),
      flags: {
        ...(kindsArg
          ? {
              resources: kindsArg
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
            }
          : {}),
        ...(opts.namespace ? { namespace: opts.namespace } : {}),
        ...(opts.plugin ? { plugin: opts.plugin } : {}),
        ...(opts.logLevel ? { logLevel: opts.logLevel as 'info' } : {}),
      },
      requireResource: !opts.crd,
    });
    const log = (level: keyof typeof LEVELS, line: string) => {
      if (LEVELS[level] >= LEVELS[config.logLevel]) io.err(`kwatch: ${line}`);
    };

    const kc = new KubeConfig();
    if (config.endpoint) {
      kc.loadFromOptions({
        clusters: [
          { name: 'config', server: config.endpoint, ...(config.ca ? { caFile: config.ca } : {}), skipTLSVerify: false },
        ],
        users: [{ name: 'config', token: config.token }],
        contexts: [{ name: 'config', cluster: 'config', user: 'config' }],
        currentContext: 'config',
      });
    } else if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else {
      const saved = process.env.KUBECONFIG;
      if (io.env.KUBECONFIG !== undefined) process.env.KUBECONFIG = io.env.KUBECONFIG;
      kc.loadFromDefault();
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
    if (opts.context) kc.setCurrentContext(opts.context);
    const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
    const namespace = opts.allNamespaces ? undefined : (config.namespace ?? contextNamespace ?? 'default');

    const kinds = [];
    for (const name of config.resources) {
      const info = resolveResource(name);
      if (!info)
        throw new ConfigError(
          `unknown or unwatchable kind '${name}' (try a plural such as pods, or deployments.apps)`,
          EXIT_CODES.missingResource,
        );
      kinds.push(await modelClass(info));
    }
    if (opts.crd) kinds.push(resourceFromCRD(readFileSync(opts.crd, 'utf8')));

    let plugin: WatcherPlugin | undefined;
    const pluginName = config.plugin;
    if (pluginName) plugin = await loadPlugin(pluginName);
    const pluginConfig = pluginName ? (config.plugins[pluginName.replace(/^.*[\\/]/, '').replace(/\.[cm]?js$/, '')] ?? {}) : {};

    const mux = new MultiplexingWatcher({
      onCulled: (w, e) => log('error', `${w.target.info.plural}: ${isKwatchError(e) ? e.message : String(e)}`),
    });
    for (const kind of kinds) {
      const info = (kind as { info?: { namespaced: boolean } }).info ?? resolveResource(`${(kind as { kind: string }).kind}`);
      const ns = info?.namespaced === false ? undefined : namespace;
      mux.addWatcher(
        new Watcher(kind as never, {
          kubeConfig: kc,
          ...(ns ? { namespace: ns as never } : {}),
          ...(opts.selector ? { labelSelector: opts.selector } : {}),
          ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
          hooks: {
            reconnecting: ({ error, delayMs }) =>
              log('warn', `${error.code}: ${error.message}; retrying in ${(delayMs / 1000).toFixed(1)} s`),
          },
        }),
      );
    }
    const where = namespace ? `in ${namespace}` : 'in all namespaces';
    log(
      'info',
      `watching ${mux
        .watchers()
        .map((w) => w.target.info.plural)
        .join(', ')} ${where} (connecting)`,
    );

    let health: HealthServer | undefined;
    const synced = new Set<string>();
    if (opts.healthPort !== undefined) {
      health = await startHealthServer({
        port: opts.healthPort,
        sources: () =>
          mux
            .watchers()
            .map((w) => ({ name: w.target.info.plural, health: () => w.health(), ready: () => synced.has(w.target.info.kind) })),
      });
      log('info', `health on ${health.url}/healthz and /readyz`);
    }

    const streamOnce = async (signal: AbortSignal): Promise<void> => {
      if (opts.output === 'table') io.out(tableHeader());
      for await (const e of mux.stream({ markers: true, signal })) {
        if (e.type === 'SYNCED') {
          synced.add(e.kind);
          if (synced.size === mux.watchers().length) log('info', 'in sync; streaming changes');
          continue;
        }
        if (e.type === 'RESYNC') {
          log('warn', `${e.kind}: the server lost our place (${e.reason.code}); resyncing`);
          continue;
        }
        const event = e as MultiplexedEvent<unknown>;
        io.out(opts.output === 'json' ? jsonLine(event) : tableLine(event, io.colour));
        if (plugin) {
          try {
            const result = (await plugin.handleEvent(
              { kind: event.kind, name: pluginName ?? '' },
              { type: event.type, object: event.object },
              pluginConfig,
            )) as { message?: string; level?: keyof typeof LEVELS } | undefined;
            if (result?.message) log(result.level && result.level in LEVELS ? result.level : 'info', result.message);
          } catch (err) {
            log('error', `plugin '${pluginName}' failed on ${event.type} ${event.kind}: ${(err as Error).message}`);
          }
        }
      }
    };

    const stop = new AbortController();
    void io.interrupted.then(() => stop.abort());
    try {
      if (opts.leaderElect) {
        let streaming: Promise<void> = Promise.resolve();
        const elector = new LeaderElector({
          kubeConfig: kc,
          namespace: namespace ?? 'default',
          name: opts.leaderElect,
          onStartedLeading: (leading) => {
            log('info', `leading ${opts.leaderElect}`);
            streaming = streamOnce(AbortSignal.any([stop.signal, leading]));
          },
          onStoppedLeading: () => {
            if (!stop.signal.aborted) log('warn', `no longer leading ${opts.leaderElect}; standing by`);
          },
        });
        log('info', `waiting for the lease ${opts.leaderElect}`);
        void elector.run();
        await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
        await streaming;
        await elector.stop();
      } else {
        await streamOnce(stop.signal);
      }
    } finally {
      await health?.close();
    }
    if (!stop.signal.aborted && mux.culled.length > 0) return 1;
    log('info', 'stopped');
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`kwatch: ${err.message}`);
      return err.exitCode;
    }
    io.err(`kwatch: ${isKwatchError(err) ? err.message : String(err)}`);
    return 1;
  }
}
