// The kwatch command line: its flags and arguments, parsed into CliOptions (commander).
import { Command, Option } from 'commander';
import { OUTPUT_FORMATS, type OutputFormat } from './output.ts';

/** The command line, parsed. */
export interface CliOptions {
  /** The kinds as given (`pods`, `deploy`, `crontabs.stable.example.com`), split at commas. */
  readonly kinds: readonly string[];
  readonly namespace?: string;
  readonly allNamespaces: boolean;
  readonly selector?: string;
  readonly fieldSelector?: string;
  readonly output: OutputFormat;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly crd?: string;
  readonly plugin?: string;
  readonly config?: string;
  readonly healthPort?: number;
  /** Serve OpenTelemetry metrics in Prometheus text at /metrics on the health port. */
  readonly metrics?: boolean;
  readonly leaderElect?: string;
  readonly logLevel?: string;
}

/**
 * Parses `argv` (without node and the script). Returns the options, or the exit code when there is nothing to run
 * (`--help`: 0, a usage error: 2; commander has printed the message through `out` / `err`).
 */
export function parseArgs(argv: readonly string[], out: (s: string) => void, err: (s: string) => void): CliOptions | number {
  const program = new Command('kwatch')
    .description('Watch Kubernetes resources: kwatch pods,deploy -n web -l app=web')
    .argument(
      '[kinds]',
      'comma-separated kinds as kubectl reads them: pods, pod, po, deploy, deployments.apps, crontabs.stable.example.com, hpa.v2.autoscaling',
    )
    .option('-n, --namespace <namespace>', 'watch within this namespace (default: the context namespace)')
    .option('-A, --all-namespaces', 'watch across all namespaces')
    .option('-l, --selector <selector>', 'label selector, e.g. app=web')
    .option('--field-selector <selector>', 'field selector, e.g. status.phase=Running')
    .addOption(
      new Option('-o, --output <format>', 'table and wide for people, json (one object per line), yaml and name for tools')
        .choices(OUTPUT_FORMATS)
        .default('table'),
    )
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config, or in-cluster)')
    .option('--context <name>', 'kubeconfig context')
    .option('--crd <file>', 'also watch the custom resource of this CRD YAML file (not needed for one installed in the cluster)')
    .option('--plugin <name-or-path>', 'call handleEvent(ctx, event, config) of this plugin for every event')
    .option('--config <file>', 'ini or YAML configuration ([global], [plugin_<name>])')
    .option('--health-port <port>', 'serve /healthz and /readyz on 127.0.0.1:<port>', (v) => Number.parseInt(v, 10))
    .option('--metrics', 'also serve metrics in Prometheus text at /metrics on the health port (needs --health-port)')
    .option('--leader-elect <lease>', 'watch only while holding this Lease (in the watch namespace)')
    .option('--log-level <level>', 'debug, info, warn or error')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.trimEnd()), writeErr: (s) => err(s.trimEnd()) });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (e) {
    return (e as { exitCode?: number }).exitCode ?? 2;
  }
  const opts = program.opts<Omit<CliOptions, 'kinds' | 'allNamespaces'> & { allNamespaces?: boolean }>();
  const kinds = (program.args[0] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (opts.metrics && opts.healthPort === undefined) {
    err('error: --metrics needs --health-port (the metrics are served on the health port)');
    return 2;
  }
  return { ...opts, kinds, allNamespaces: opts.allNamespaces === true };
}
