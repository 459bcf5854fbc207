// A MetricReader for tests and a scrape of its data points as `name{labels}` → value.
import { MetricReader } from '@opentelemetry/sdk-metrics';

export class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Every data point as `name{k=v,…}` → value (histograms: count and sum). */
export async function scrape(reader: TestReader): Promise<Record<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const out: Record<string, number> = {};
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      for (const p of metric.dataPoints as Array<{ attributes: Record<string, unknown>; value: unknown }>) {
        const labels = Object.entries(p.attributes)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(',');
        const name = `${metric.descriptor.name}{${labels}}`;
        if (typeof p.value === 'number') out[name] = p.value;
        else {
          const h = p.value as { count: number; sum: number };
          out[`${name}.count`] = h.count;
          out[`${name}.sum`] = h.sum;
        }
      }
    }
  }
  return out;
}
