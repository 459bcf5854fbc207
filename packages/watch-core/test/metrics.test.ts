// OpenTelemetry instruments of Watcher and InformerFactory, read through the metrics SDK (a dev
// dependency only) against the SimulatedApiServer on a manual clock.
import { setImmediate as turn } from 'node:timers/promises';
import { ConfigMap } from '@kwatch/models/v1';
import { ManualClock, SimulatedApiServer } from '@kwatch/testenv';
import { metrics as otel } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { apiErrorFrom, InformerFactory, METRICS, Watcher } from '../src/index.ts';

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Every data point as `name{k=v,…}` → value (histograms: count and sum). */
async function scrape(reader: TestReader): Promise<Record<string, number>> {
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

function setup() {
  const clock = new ManualClock();
  const sim = new SimulatedApiServer({ clock, errorFactory: apiErrorFrom, bookmarkIntervalMs: 5_000 });
  sim.create('configmaps', { metadata: { name: 'a', namespace: 'ns' } });
  sim.create('configmaps', { metadata: { name: 'b', namespace: 'ns' } });
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('kwatch-test');
  return { clock, sim, reader, meter };
}

const settle = async (clock: ManualClock, ms = 0) => {
  for (let i = 0; i < 20; i++) {
    await turn();
    if (ms) clock.advance(ms);
  }
};

describe('metrics', () => {
  it('a watcher counts events by type, bookmarks, reconnects, 410s, relists, errors, and the lag from the server timestamp', async () => {
    const { clock, sim, reader, meter } = setup();
    const watcher = new Watcher(ConfigMap, { namespace: 'ns', transport: sim, clock, metrics: { meter } });
    const taken: string[] = [];
    const done = (async () => {
      for await (const e of watcher.stream()) taken.push(`${e.type} ${e.object.metadata?.name}`);
    })();
    await settle(clock);
    clock.advance(3_000); // the lag of c: created 3 s before it is taken (its timestamp: this instant)
    sim.create('configmaps', { metadata: { name: 'c', namespace: 'ns' } });
    clock.advance(3_000);
    await settle(clock);
    sim.closeWatches(); // a clean end: one reconnect
    await settle(clock, 100);
    sim.update('configmaps', 'ns/a', { data: { v: '2' } });
    await settle(clock);
    sim.compact();
    sim.expireWatches(); // 410: a relist
    await settle(clock, 1_000);
    sim.delete('configmaps', 'ns/b');
    await settle(clock, 1_000);
    // A change elsewhere moves the server's resourceVersion: the next bookmark (every 5 s) carries it.
    sim.create('configmaps', { metadata: { name: 'x', namespace: 'other' } });
    await settle(clock, 1_000);
    watcher.stop();
    await done;
    const m = await scrape(reader);
    expect(taken.slice(0, 3)).toEqual(['ADDED a', 'ADDED b', 'ADDED c']);
    expect(m['kwatch.watch.events{kind=ConfigMap,synthetic=true,type=ADDED}']).toBe(2);
    expect(m['kwatch.watch.events{kind=ConfigMap,synthetic=false,type=ADDED}']).toBe(1);
    expect(m['kwatch.watch.events{kind=ConfigMap,synthetic=false,type=MODIFIED}']).toBe(1);
    expect(m['kwatch.watch.events{kind=ConfigMap,synthetic=false,type=DELETED}']).toBe(1);
    expect(m['kwatch.watch.gone{kind=ConfigMap}']).toBe(1);
    expect(m['kwatch.watch.relists{kind=ConfigMap}']).toBe(1);
    expect(m['kwatch.watch.errors{code=GONE,kind=ConfigMap}']).toBe(1);
    expect(m['kwatch.watch.reconnects{kind=ConfigMap}']).toBeGreaterThanOrEqual(2);
    expect(m['kwatch.watch.bookmarks{kind=ConfigMap}']).toBeGreaterThanOrEqual(1);
    // c's ADDED: 3 s after its creationTimestamp (DELETED of b has no deletionTimestamp here, MODIFIED no managedFields).
    expect(m['kwatch.watch.lag{kind=ConfigMap}.count']).toBe(1);
    expect(m['kwatch.watch.lag{kind=ConfigMap}.sum']).toBe(3);
    expect(Object.keys(m).every((k) => !k.includes('namespace='))).toBe(true);
  });

  it("the user's hooks still run beside the recording ones", async () => {
    const { clock, sim, meter } = setup();
    const relisted: boolean[] = [];
    const watcher = new Watcher(ConfigMap, {
      namespace: 'ns',
      transport: sim,
      clock,
      metrics: { meter },
      hooks: { relisted: (i) => relisted.push(i.initial) },
    });
    const done = (async () => {
      for await (const _ of watcher.stream()) {
      }
    })();
    await settle(clock);
    watcher.stop();
    await done;
    expect(relisted).toEqual([true]);
  });

  it('an informer factory reports store sizes, subscribers, queue depth, overflows and last-event age, per kind and (when asked) namespace', async () => {
    const { clock, sim, reader, meter } = setup();
    sim.create('configmaps', { metadata: { name: 'x', namespace: 'other' } });
    const informers = new InformerFactory({ transport: sim, clock, metrics: { meter, namespaceLabel: true } });
    const store = informers.store(ConfigMap, { namespace: 'ns' });
    const other = informers.store(ConfigMap, { namespace: 'other' });
    await store.synced();
    await other.synced();
    // A subscriber that never pulls, with a queue of 2: three changes overflow it.
    const stuck = informers.stream(ConfigMap, { namespace: 'ns', bufferSize: 2 });
    const first = stuck.next(); // joins, takes nothing more
    await settle(clock);
    for (let i = 0; i < 3; i++) sim.create('configmaps', { metadata: { name: `n${i}`, namespace: 'ns' } });
    await settle(clock);
    let m = await scrape(reader);
    expect(m['kwatch.informer.store.objects{kind=ConfigMap,namespace=ns}']).toBe(5);
    expect(m['kwatch.informer.store.objects{kind=ConfigMap,namespace=other}']).toBe(1);
    expect(m['kwatch.informer.subscribers{kind=ConfigMap,namespace=ns}']).toBe(2);
    expect(m['kwatch.informer.queue.depth{kind=ConfigMap,namespace=ns}']).toBeLessThanOrEqual(2);
    expect(m['kwatch.watch.events{kind=ConfigMap,namespace=ns,synthetic=false,type=ADDED}']).toBe(3);
    await first;
    for (let i = 0; i < 3; i++) await stuck.next(); // the overflow is noticed when it pulls again
    m = await scrape(reader);
    expect(m['kwatch.informer.overflows{kind=ConfigMap,namespace=ns}']).toBe(1);
    clock.advance(7_000);
    m = await scrape(reader);
    expect(m['kwatch.watch.last_event_age{kind=ConfigMap,namespace=ns}']).toBeGreaterThanOrEqual(7);
    await stuck.return();
    store.release();
    other.release();
    informers.stop();
  });

  it('records nothing and loads no OpenTelemetry without the option; names are stable', async () => {
    expect(METRICS.events.name).toBe('kwatch.watch.events');
    expect(() => new Watcher(ConfigMap, { metrics: { meter: {} as never } })).toThrow(/OpenTelemetry Meter/);
    // The API's own Meter type fits kwatch's structural one (checked by the compiler), here its no-op meter.
    const watcher = new Watcher(ConfigMap, { metrics: { meter: otel.getMeter('kwatch') } });
    expect(watcher.kind).toBe(ConfigMap);
  });
});
