import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Meter } from '@opentelemetry/api';

/** The CLI's metrics: a meter the watchers record into, and the `/metrics` handler of the health server. */
export interface PrometheusMetrics {
  readonly meter: Meter;
  /** Answers a scrape in Prometheus text format. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  shutdown(): Promise<void>;
}

/**
 * The OpenTelemetry metrics SDK with a Prometheus exporter that starts no server of its own (the health server
 * answers `/metrics`). Loaded only with `--metrics`: without it the CLI loads no OpenTelemetry code.
 */
export async function prometheusMetrics(): Promise<PrometheusMetrics> {
  const [{ MeterProvider }, { PrometheusExporter }] = await Promise.all([
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/exporter-prometheus'),
  ]);
  const exporter = new PrometheusExporter({ preventServerStart: true, withoutTargetInfo: true, withoutScopeInfo: true });
  const provider = new MeterProvider({ readers: [exporter] });
  return {
    meter: provider.getMeter('kwatch'),
    handler: (req, res) => exporter.getMetricsRequestHandler(req, res),
    shutdown: () => provider.shutdown(),
  };
}
