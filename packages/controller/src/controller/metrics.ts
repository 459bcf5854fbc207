// A controller's metrics under client-go's workqueue names and controller-runtime's names, on the user's Meter.
import type { MetricsOptions } from '@kwatch/watch-core';
import type { QueueObserver } from '../queue/index.ts';

type Meter = MetricsOptions['meter'];

/** Histogram buckets of controller-runtime's reconcile time and client-go's queue and work durations, in seconds. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** What the controller records per reconcile; the queue's part is a {@link QueueObserver}. */
export interface ControllerRecorder {
  readonly queue: QueueObserver;
  /** One reconcile ended: `success`, `error`, `requeue_after` (controller-runtime's `result` label), in `ms`. */
  reconciled(result: 'success' | 'error' | 'requeue_after', ms: number): void;
}

/**
 * The instruments on `meter`, labelled `name` (client-go's `workqueue_*`) and `controller` (controller-runtime's
 * `controller_runtime_*`): adds, retries, queue and work durations, depth, unfinished work, longest running;
 * reconciles by result, errors, reconcile time, max concurrent reconciles, active workers.
 */
export function controllerMetrics(
  meter: Meter,
  name: string,
  gauges: { depth(): number; running(): number[]; concurrency: number },
): ControllerRecorder {
  const queueLabels = { name };
  const labels = { controller: name };
  const adds = meter.createCounter('workqueue_adds_total', { description: 'Adds handled by the workqueue' });
  const retries = meter.createCounter('workqueue_retries_total', { description: 'Retries handled by the workqueue' });
  const queueDuration = meter.createHistogram('workqueue_queue_duration_seconds', {
    unit: 's',
    description: 'How long an item stays in the workqueue before being requested',
    advice: { explicitBucketBoundaries: BUCKETS },
  });
  const workDuration = meter.createHistogram('workqueue_work_duration_seconds', {
    unit: 's',
    description: 'How long processing an item from the workqueue takes',
    advice: { explicitBucketBoundaries: BUCKETS },
  });
  const reconciles = meter.createCounter('controller_runtime_reconcile_total', {
    description: 'Reconciliations per controller, by result',
  });
  const errors = meter.createCounter('controller_runtime_reconcile_errors_total', {
    description: 'Reconciliation errors per controller',
  });
  const reconcileTime = meter.createHistogram('controller_runtime_reconcile_time_seconds', {
    unit: 's',
    description: 'Length of time per reconciliation per controller',
    advice: { explicitBucketBoundaries: BUCKETS },
  });
  const gauge = (metric: string, description: string, value: () => number, attributes: Record<string, string>): void => {
    meter.createObservableGauge(metric, { description }).addCallback((result) => result.observe(value(), attributes));
  };
  gauge('workqueue_depth', 'Current depth of the workqueue', gauges.depth, queueLabels);
  gauge(
    'workqueue_unfinished_work_seconds',
    'Seconds of work in progress not yet observed by work_duration',
    () => gauges.running().reduce((a, b) => a + b, 0) / 1000,
    queueLabels,
  );
  gauge(
    'workqueue_longest_running_processor_seconds',
    'Seconds the longest running processor has been running',
    () => Math.max(0, ...gauges.running()) / 1000,
    queueLabels,
  );
  gauge(
    'controller_runtime_max_concurrent_reconciles',
    'Maximum number of concurrent reconciles per controller',
    () => gauges.concurrency,
    labels,
  );
  gauge(
    'controller_runtime_active_workers',
    'Number of currently used workers per controller',
    () => gauges.running().length,
    labels,
  );
  return {
    queue: {
      added: () => adds.add(1, queueLabels),
      retried: () => retries.add(1, queueLabels),
      started: (ms) => queueDuration.record(ms / 1000, queueLabels),
      finished: (ms) => workDuration.record(ms / 1000, queueLabels),
    },
    reconciled: (result, ms) => {
      reconciles.add(1, { ...labels, result });
      if (result === 'error') errors.add(1, labels);
      reconcileTime.record(ms / 1000, labels);
    },
  };
}
