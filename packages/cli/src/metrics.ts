// The CLI's Prometheus metrics: an OpenTelemetry meter for the watchers, and the /metrics handler.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { METRICS, type Watcher } from '@kwatch/watch-core';
import type { Meter } from '@opentelemetry/api';

/** The CLI's metrics: a meter the watchers record into, and the `/metrics` handler of the health server. */
export interface PrometheusMetrics {
  readonly meter: Meter;
  /** Answers a scrape in Prometheus text format. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  shutdown(): Promise<void>;
  /** Reports each watcher's time since its last event or bookmark (`kwatch.watch.last_event_age`, by kind). */
  observe(watchers: () => readonly Watcher<any, any>[]): void;
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
  const meter = provider.getMeter('kwatch');
  return {
    meter,
    handler: (req, res) => exporter.getMetricsRequestHandler(req, res),
    shutdown: () => provider.shutdown(),
    observe(watchers) {
      const { name, unit } = METRICS.lastEventAge;
      const gauge = meter.createObservableGauge(name, {
        unit,
        description: 'Time since the last event or bookmark of a watch',
      });
      gauge.addCallback((result) => {
        const now = Date.now();
        for (const w of watchers()) {
          const at = w.health().lastEventAt;
          if (at !== undefined) result.observe(Math.max(0, (now - at) / 1000), { kind: w.target.info.kind });
        }
      });
    },
  };
}
