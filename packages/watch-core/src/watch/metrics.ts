// A watcher's and a factory's OpenTelemetry metrics: the instruments, recorded on a Meter the user gives.

// kwatch never loads `@opentelemetry/api` (an optional peer dependency), not even its types: what it calls on the
// user's `Meter` is described structurally below, so a TypeScript consumer without the package still compiles.
// `metrics.test.ts` passes the SDK's real Meter, so the compiler checks that an OpenTelemetry Meter fits.

/** Attributes (labels) of a data point, as OpenTelemetry's `Attributes`. */
export type Attributes = Record<string, string | number | boolean | undefined>;
/** The part of an OpenTelemetry `Counter` kwatch uses. */
export interface Counter {
  add(value: number, attributes?: Attributes): void;
}
/** The part of an OpenTelemetry `Histogram` kwatch uses. */
interface Histogram {
  record(value: number, attributes?: Attributes): void;
}
/** The part of an OpenTelemetry `ObservableResult` kwatch uses. */
interface ObservableResult {
  observe(value: number, attributes?: Attributes): void;
}
/** The part of an OpenTelemetry `ObservableGauge` kwatch uses. */
interface ObservableGauge {
  addCallback(callback: (result: ObservableResult) => void): void;
  removeCallback(callback: (result: ObservableResult) => void): void;
}
/** The part of an OpenTelemetry `Meter` (from `@opentelemetry/api`'s `metrics.getMeter()`) kwatch uses. */
interface Meter {
  createCounter(name: string, options?: { unit?: string; description?: string }): Counter;
  createHistogram(
    name: string,
    options?: { unit?: string; description?: string; advice?: { explicitBucketBoundaries?: number[] } },
  ): Histogram;
  createObservableGauge(name: string, options?: { unit?: string; description?: string }): ObservableGauge;
}

import type { WatchEvent, WatchMarker } from '../internal/index.ts';
import type { WatcherHooks } from './hooks.ts';

/**
 * OpenTelemetry instruments of a watcher or an informer factory: pass a `Meter` of your
 * `MeterProvider` (`@opentelemetry/api` is an optional peer dependency; kwatch never loads it).
 * Series are labelled by `kind` (e.g. `Pod`, `Deployment`) and, only when `namespaceLabel` is set,
 * by `namespace` (`""` for all namespaces) — bounded by what you watch, never by objects.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * new Watcher(Pod, { metrics: { meter: metrics.getMeter('kwatch') } });
 * new InformerFactory({ metrics: { meter: metrics.getMeter('kwatch'), namespaceLabel: true } });
 * ```
 */
export interface MetricsOptions {
  /** Where the instruments are created (once per meter). */
  readonly meter: Meter;
  /** Also label by namespace (one series per namespace watched). Default: `false`. */
  readonly namespaceLabel?: boolean;
}

/** The instruments, created once per meter. */
interface Instruments {
  readonly events: Counter;
  readonly bookmarks: Counter;
  readonly reconnects: Counter;
  readonly relists: Counter;
  readonly gone: Counter;
  readonly errors: Counter;
  readonly lag: Histogram;
}

/** Metric names, units and what they count (also in docs/informers.md). */
export const METRICS = {
  events: { name: 'kwatch.watch.events', unit: '{event}' },
  bookmarks: { name: 'kwatch.watch.bookmarks', unit: '{bookmark}' },
  reconnects: { name: 'kwatch.watch.reconnects', unit: '{request}' },
  relists: { name: 'kwatch.watch.relists', unit: '{relist}' },
  gone: { name: 'kwatch.watch.gone', unit: '{response}' },
  errors: { name: 'kwatch.watch.errors', unit: '{error}' },
  lag: { name: 'kwatch.watch.lag', unit: 's' },
  lastEventAge: { name: 'kwatch.watch.last_event_age', unit: 's' },
  storeObjects: { name: 'kwatch.informer.store.objects', unit: '{object}' },
  subscribers: { name: 'kwatch.informer.subscribers', unit: '{subscriber}' },
  queueDepth: { name: 'kwatch.informer.queue.depth', unit: '{item}' },
  overflows: { name: 'kwatch.informer.overflows', unit: '{resync}' },
} as const;

/** Lag buckets, in seconds: the server's timestamps have a resolution of one second. */
const LAG_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 300];

const instrumentsOf = new WeakMap<Meter, Instruments>();

function instruments(meter: Meter): Instruments {
  let i = instrumentsOf.get(meter);
  if (!i) {
    const counter = (m: { name: string; unit: string }, description: string): Counter =>
      meter.createCounter(m.name, { unit: m.unit, description });
    i = {
      events: counter(METRICS.events, 'Events taken by the consumer, by type (synthetic: derived from a relist or a store)'),
      bookmarks: counter(METRICS.bookmarks, 'BOOKMARK events received'),
      reconnects: counter(METRICS.reconnects, 'Watch requests opened after the first one'),
      relists: counter(METRICS.relists, 'Resyncs after the first list (after 410 Gone)'),
      gone: counter(METRICS.gone, '410 Gone responses (the resourceVersion was compacted)'),
      errors: counter(METRICS.errors, 'Failures, retried or not, by error code'),
      lag: meter.createHistogram(METRICS.lag.name, {
        unit: METRICS.lag.unit,
        description:
          'From the server timestamp of a change (creation, deletion or last managedFields time) to its delivery; 1 s resolution',
        advice: { explicitBucketBoundaries: LAG_BUCKETS },
      }),
    };
    instrumentsOf.set(meter, i);
  }
  return i;
}

/** The attributes of a watch: its kind, and its namespace when asked. */
export function watchAttributes(options: MetricsOptions, kind: string, namespace: string | undefined): Attributes {
  return options.namespaceLabel ? { kind, namespace: namespace ?? '' } : { kind };
}

/** The server time of the change an event reports, in ms, where the object carries one. */
function changedAt(event: WatchEvent<unknown>): number | undefined {
  const meta = (event.object as { metadata?: Record<string, unknown> } | undefined)?.metadata;
  if (!meta) return undefined;
  let stamp: unknown;
  if (event.type === 'ADDED') stamp = meta.creationTimestamp;
  else if (event.type === 'DELETED') stamp = meta.deletionTimestamp;
  else {
    const fields = meta.managedFields;
    if (!Array.isArray(fields)) return undefined;
    let latest: number | undefined;
    for (const f of fields) {
      const t = toMs((f as { time?: unknown } | undefined)?.time);
      if (t !== undefined && (latest === undefined || t > latest)) latest = t;
    }
    return latest;
  }
  return toMs(stamp);
}

function toMs(stamp: unknown): number | undefined {
  if (stamp instanceof Date) return stamp.getTime();
  if (typeof stamp !== 'string') return undefined;
  const t = Date.parse(stamp);
  return Number.isNaN(t) ? undefined : t;
}

/** What a watcher records: events as its consumer takes them, and its hooks. */
export class WatchRecorder {
  readonly #i: Instruments;
  readonly #attributes: Attributes;
  readonly #byType = new Map<string, Attributes>();
  readonly #now: () => number;

  constructor(options: MetricsOptions, attributes: Attributes, now: () => number) {
    this.#i = instruments(options.meter);
    this.#attributes = attributes;
    this.#now = now;
  }

  /** An item the consumer took. */
  taken(item: WatchEvent<unknown> | WatchMarker): void {
    if (item.type === 'SYNCED' || item.type === 'RESYNC') return;
    const event = item as WatchEvent<unknown>;
    const key = `${event.type}${event.synthetic ? '+' : ''}`;
    let attributes = this.#byType.get(key);
    if (!attributes) {
      attributes = { ...this.#attributes, type: event.type, synthetic: event.synthetic };
      this.#byType.set(key, attributes);
    }
    this.#i.events.add(1, attributes);
    if (event.synthetic) return;
    const at = changedAt(event);
    if (at !== undefined) this.#i.lag.record(Math.max(0, (this.#now() - at) / 1000), this.#attributes);
  }

  /** The user's hooks, with the recording ones called first. */
  hooks(user: WatcherHooks | undefined): WatcherHooks {
    const i = this.#i;
    const a = this.#attributes;
    const errors = new Map<string, Attributes>();
    return {
      ...user,
      connected: (info) => {
        if (info.reconnects > 0) i.reconnects.add(1, a);
        user?.connected?.(info);
      },
      relisted: (info) => {
        if (!info.initial) i.relists.add(1, a);
        user?.relisted?.(info);
      },
      bookmark: (info) => {
        i.bookmarks.add(1, a);
        user?.bookmark?.(info);
      },
      error: (error) => {
        if (error.code === 'GONE') i.gone.add(1, a);
        let attributes = errors.get(error.code);
        if (!attributes) {
          attributes = { ...a, code: error.code };
          errors.set(error.code, attributes);
        }
        i.errors.add(1, attributes);
        user?.error?.(error);
      },
    };
  }
}

/** One shared watch, as the informer gauges read it. */
export interface ObservedWatch {
  readonly attributes: Attributes;
  readonly storeObjects: number;
  readonly subscribers: number;
  readonly maxQueueDepth: number;
  readonly lastEventAt: number | undefined;
}

/**
 * The gauges of an informer factory, read at each collection: store sizes, subscribers, the
 * deepest subscriber queue, and the age of the last event or bookmark, per shared watch (summed
 * over watches of the same attributes). Returns the overflow counter and a function that removes the callbacks.
 */
export function observeInformers(
  options: MetricsOptions,
  watches: () => Iterable<ObservedWatch>,
  now: () => number,
): { overflows: Counter; remove: () => void } {
  const { meter } = options;
  const gauge = (m: { name: string; unit: string }, description: string): ObservableGauge =>
    meter.createObservableGauge(m.name, { unit: m.unit, description });
  const store = gauge(METRICS.storeObjects, 'Objects in the shared stores');
  const subscribers = gauge(METRICS.subscribers, 'Store handles and streams holding the shared watches');
  const depth = gauge(METRICS.queueDepth, 'Items queued for the slowest stream subscriber of a shared watch');
  const age = gauge(METRICS.lastEventAge, 'Time since the last event or bookmark of a shared watch');
  const overflows = meter.createCounter(METRICS.overflows.name, {
    unit: METRICS.overflows.unit,
    description: 'Stream subscribers resynced from the store after overflowing their queue',
  });
  /** Observes `read` of every watch, combined over watches of the same attributes. */
  const observer =
    (read: (w: ObservedWatch) => number | undefined, combine: (x: number, y: number) => number) =>
    (result: ObservableResult): void => {
      const byKey = new Map<string, { attributes: Attributes; value: number }>();
      for (const w of watches()) {
        const value = read(w);
        if (value === undefined) continue;
        const key = JSON.stringify(w.attributes);
        const prev = byKey.get(key);
        byKey.set(key, { attributes: w.attributes, value: prev ? combine(prev.value, value) : value });
      }
      for (const { attributes, value } of byKey.values()) result.observe(value, attributes);
    };
  const sum = (x: number, y: number): number => x + y;
  const cbs: Array<[ObservableGauge, (o: ObservableResult) => void]> = [
    [store, observer((w) => w.storeObjects, sum)],
    [subscribers, observer((w) => w.subscribers, sum)],
    [depth, observer((w) => w.maxQueueDepth, Math.max)],
    [age, observer((w) => (w.lastEventAt === undefined ? undefined : Math.max(0, (now() - w.lastEventAt) / 1000)), Math.max)],
  ];
  for (const [g, cb] of cbs) g.addCallback(cb);
  return {
    overflows,
    remove: () => {
      for (const [g, cb] of cbs) g.removeCallback(cb);
    },
  };
}
