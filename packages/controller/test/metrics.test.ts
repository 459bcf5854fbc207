// The controller's metrics on a real OpenTelemetry SDK Meter: client-go's workqueue names, controller-runtime's names.
import { ManualClock } from '@kwatch/testenv';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { controllerMetrics } from '../src/controller/metrics.ts';
import { WorkQueue } from '../src/index.ts';
import { scrape, TestReader } from './otel.ts';

describe('controller metrics', () => {
  it('records adds, retries, waits, work, depth, unfinished work and reconciles by result', async () => {
    const reader = new TestReader();
    const meter = new MeterProvider({ readers: [reader] }).getMeter('test');
    const clock = new ManualClock();
    let queue: WorkQueue<string> | undefined;
    const recorder = controllerMetrics(meter, 'mirror', {
      depth: () => queue?.length ?? 0,
      running: () => queue?.runningFor() ?? [],
      concurrency: 4,
    });
    queue = new WorkQueue<string>({ clock, observer: recorder.queue, bucket: false });
    queue.add('a');
    queue.add('a'); // counted, deduplicated
    queue.add('b');
    clock.advance(2000);
    const a = await queue.get(); // waited 2 s
    clock.advance(500);
    let m = await scrape(reader);
    expect(m['workqueue_depth{name=mirror}']).toBe(1); // b waits
    expect(m['workqueue_unfinished_work_seconds{name=mirror}']).toBe(0.5);
    expect(m['workqueue_longest_running_processor_seconds{name=mirror}']).toBe(0.5);
    expect(m['controller_runtime_active_workers{controller=mirror}']).toBe(1);
    expect(m['controller_runtime_max_concurrent_reconciles{controller=mirror}']).toBe(4);
    queue.addRateLimited(a as string);
    queue.done(a as string);
    recorder.reconciled('error', 500);
    recorder.reconciled('success', 100);
    recorder.reconciled('requeue_after', 50);
    m = await scrape(reader);
    expect(m['workqueue_adds_total{name=mirror}']).toBe(3);
    expect(m['workqueue_retries_total{name=mirror}']).toBe(1);
    expect(m['workqueue_queue_duration_seconds{name=mirror}.count']).toBe(1);
    expect(m['workqueue_queue_duration_seconds{name=mirror}.sum']).toBe(2);
    expect(m['workqueue_work_duration_seconds{name=mirror}.sum']).toBe(0.5);
    expect(m['controller_runtime_reconcile_total{controller=mirror,result=error}']).toBe(1);
    expect(m['controller_runtime_reconcile_total{controller=mirror,result=success}']).toBe(1);
    expect(m['controller_runtime_reconcile_total{controller=mirror,result=requeue_after}']).toBe(1);
    expect(m['controller_runtime_reconcile_errors_total{controller=mirror}']).toBe(1);
    expect(m['controller_runtime_reconcile_time_seconds{controller=mirror}.count']).toBe(3);
  });
});
