// EventRecorder: events.k8s.io/v1 Events about objects, a repeated one counted as a series instead of a new Event.
import { randomBytes } from 'node:crypto';
import type { KubeRequest } from '@kwatch/watch-core';

type Regarding = {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
};

/**
 * One event about an object: `type` `Normal` or `Warning`, a CamelCase `reason`, what the controller did (`action`),
 * and a human-readable `note`.
 *
 * @example
 * ```ts
 * recorder.event(configMap, { type: 'Normal', reason: 'Mirrored', action: 'Apply', note: 'mirrored to Secret web/x' });
 * ```
 */
export interface EventOptions {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly action: string;
  readonly note?: string;
}

/** What the recorder sends requests through (a `KubeClient`). */
interface Requester {
  request<T = unknown>(req: KubeRequest): Promise<T>;
}

interface Series {
  readonly name: string;
  readonly namespace: string;
  count: number;
  lastObservedAt: number;
  firstAt: number;
  /** The series update waiting to be sent (at most one per `seriesIntervalMs`). */
  timer: NodeJS.Timeout | undefined;
  sentCount: number;
  /** Settles when the Event is created: series updates go after it. */
  created: Promise<unknown>;
}

/** Events with the same regarding object, type, reason, action and note within this window form one series. */
const SERIES_WINDOW_MS = 6 * 60_000;

/** Series remembered at most (the least recently seen go first), as client-go's event correlator's LRU cache. */
const MAX_SERIES = 4096;

/** RFC 3339 with microseconds, as a `MicroTime`. */
const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/**
 * Records events.k8s.io/v1 Events about objects, as client-go's events recorder: the first occurrence creates an
 * Event; the same event again (same object, type, reason, action, note) within 6 minutes counts into that Event's
 * `series` (`count`, `lastObservedTime`), updated at most once per `seriesIntervalMs`, instead of a new Event. A
 * failure to record is reported to `onError`, never thrown into the reconcile.
 *
 * @example
 * ```ts
 * const recorder = new EventRecorder(new KubeClient(), { controller: 'example.com/mirror', instance: 'pod-1' });
 * recorder.event(object, { type: 'Warning', reason: 'NoTarget', action: 'Reconcile', note: 'data.target is empty' });
 * ```
 */
export class EventRecorder {
  readonly #client: Requester;
  readonly #controller: string;
  readonly #instance: string;
  readonly #intervalMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #series = new Map<string, Series>();
  readonly #pending = new Set<Promise<unknown>>();

  /**
   * @param options `controller` (the reportingController, e.g. `example.com/mirror`), `instance` (the
   * reportingInstance; default: a random id), `seriesIntervalMs` (default `30000`, client-go's), `onError`
   * (default: none).
   */
  constructor(
    client: Requester,
    options: { controller: string; instance?: string; seriesIntervalMs?: number; onError?: (error: unknown) => void },
  ) {
    this.#client = client;
    this.#controller = options.controller;
    this.#instance = options.instance ?? `${options.controller}-${randomBytes(4).toString('hex')}`;
    this.#intervalMs = options.seriesIntervalMs ?? 30_000;
    this.#onError = options.onError ?? (() => {});
  }

  /** Records `event` about `regarding` (sent in the background; see {@link flush}). */
  event(regarding: Regarding, event: EventOptions): void {
    const meta = regarding.metadata ?? {};
    const key = JSON.stringify([
      regarding.apiVersion,
      regarding.kind,
      meta.namespace,
      meta.name,
      meta.uid,
      event.type,
      event.reason,
      event.action,
      event.note,
    ]);
    const now = Date.now();
    const series = this.#series.get(key);
    if (series && now - series.lastObservedAt < SERIES_WINDOW_MS) {
      this.#series.delete(key); // most recently seen last
      this.#series.set(key, series);
      series.count += 1;
      series.lastObservedAt = now;
      series.timer ??= setTimeout(() => this.#sendSeries(series), Math.max(0, series.firstAt + this.#intervalMs - now));
      return;
    }
    const namespace = meta.namespace || 'default';
    const name = `${meta.name ?? 'object'}.${randomBytes(8).toString('hex')}`;
    const created = this.#client.request({
      method: 'POST',
      path: `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events`,
      body: {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name, namespace },
        eventTime: microTime(now),
        reportingController: this.#controller,
        reportingInstance: this.#instance,
        action: event.action,
        reason: event.reason,
        type: event.type,
        ...(event.note ? { note: event.note.slice(0, 1024) } : {}),
        regarding: {
          apiVersion: regarding.apiVersion,
          kind: regarding.kind,
          name: meta.name,
          namespace: meta.namespace,
          uid: meta.uid,
          resourceVersion: meta.resourceVersion,
        },
      },
      signal: AbortSignal.timeout(30_000),
    });
    this.#series.delete(key);
    for (const [oldest, old] of this.#series) {
      if (this.#series.size < MAX_SERIES) break;
      // Forgotten: its pending update is sent now.
      if (old.timer) {
        clearTimeout(old.timer);
        this.#sendSeries(old);
      }
      this.#series.delete(oldest);
    }
    this.#series.set(key, {
      name,
      namespace,
      count: 1,
      lastObservedAt: now,
      firstAt: now,
      timer: undefined,
      sentCount: 1,
      created,
    });
    this.#track(created);
  }

  /** Sends every series update now and waits for every request in flight. */
  async flush(): Promise<void> {
    for (const series of this.#series.values()) {
      if (series.timer) {
        clearTimeout(series.timer);
        this.#sendSeries(series);
      }
    }
    await Promise.all(this.#pending);
  }

  #sendSeries(series: Series): void {
    series.timer = undefined;
    if (series.count === series.sentCount) return;
    series.sentCount = series.count;
    series.firstAt = Date.now();
    const body = { series: { count: series.count, lastObservedTime: microTime(series.lastObservedAt) } };
    this.#track(
      series.created.then(() =>
        this.#client.request({
          method: 'PATCH',
          path: `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(series.namespace)}/events/${encodeURIComponent(series.name)}`,
          contentType: 'application/merge-patch+json',
          body,
          signal: AbortSignal.timeout(30_000),
        }),
      ),
    );
  }

  #track(request: Promise<unknown>): void {
    const p = request.catch((error: unknown) => {
      try {
        this.#onError(error);
      } catch {
        // A throwing onError must not turn into an unhandled rejection or fail flush().
      }
    });
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }
}
