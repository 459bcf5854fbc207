// Prometheus metrics for a watching process: an OpenTelemetry meter to record into, and the /metrics handler.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KwatchError, METRICS, type Watcher } from '@kwatch/watch-core';
import type { Meter } from '@opentelemetry/api';

/**
 * A meter that watchers, informers and controllers record into, and the `/metrics` handler that serves what they
 * recorded in Prometheus text (see {@link prometheusMetrics}).
 *
 * @example
 * ```ts
 * const prometheus = await prometheusMetrics();
 * new Watcher(Pod, { metrics: { meter: prometheus.meter } });
 * await startHealthServer({ port: 8080, sources: () => [], metrics: prometheus.handler });
 * ```
 */
export interface PrometheusMetrics {
  readonly meter: Meter;
  /** Answers a scrape in Prometheus text format. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  shutdown(): Promise<void>;
  /** Reports each watcher's time since its last event or bookmark (`kwatch.watch.last_event_age`, by kind). */
  observe(watchers: () => readonly Watcher<any, any>[]): void;
}

/**
 * The OpenTelemetry metrics SDK with a Prometheus exporter that starts no server of its own: a health server answers
 * `/metrics` with its `handler` (`kwatch --metrics`, a `Controller`'s `run({ healthPort, metrics })`). The SDK is
 * loaded by this call only; it needs `@opentelemetry/sdk-metrics` and `@opentelemetry/exporter-prometheus` installed
 * (optional peer dependencies of this package; an `INVALID_OPTION` error says so when they are not).
 *
 * @example
 * ```ts
 * const prometheus = await prometheusMetrics();
 * const controller = new Controller(ConfigMap, { metrics: { meter: prometheus.meter }, reconcile });
 * await controller.run({ healthPort: 8080, metrics: prometheus.handler }); // GET :8080/metrics
 * ```
 */
export async function prometheusMetrics(): Promise<PrometheusMetrics> {
  const [{ MeterProvider }, { PrometheusExporter }] = await Promise.all([
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/exporter-prometheus'),
  ]).catch((error: unknown) => {
    throw new KwatchError(
      'INVALID_OPTION',
      'Prometheus metrics need @opentelemetry/sdk-metrics and @opentelemetry/exporter-prometheus installed',
      { cause: error },
    );
  });
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
