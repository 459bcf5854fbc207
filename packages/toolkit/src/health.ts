// /healthz and /readyz (and /metrics) of a watching process, from each watch's health.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkOptions, optionSchemas, type WatcherHealth } from '@kwatch/watch-core';
import { z } from 'zod';
import { DEFAULTS } from './defaults.ts';

/** What the health server reports about one watch. */
export interface HealthSource {
  readonly name: string;
  health(): WatcherHealth;
  /** The initial state is complete (or this replica is a leader-election standby). */
  ready(): boolean;
}

/** Options of {@link startHealthServer}. Every default is in `DEFAULTS.health`. */
export interface HealthServerOptions {
  /** Port; `0` picks a free one. Required. */
  readonly port: number;
  /** Address to bind. Default: `127.0.0.1` (never all interfaces unless asked). */
  readonly host?: string;
  /** Alive while an event or bookmark came within this window (or the watch started within it), in ms. Default: `300000`. */
  readonly livenessWindowMs?: number;
  /** The watches reported, asked at every request. Required. */
  readonly sources: () => readonly HealthSource[];
  /** Answers `GET /metrics` (e.g. a Prometheus exporter's request handler). Default: no `/metrics` (404). */
  readonly metrics?: (req: IncomingMessage, res: ServerResponse) => void;
}

/** {@link HealthServerOptions} with every default applied. */
export interface ResolvedHealthServerOptions {
  readonly port: number;
  readonly host: string;
  readonly livenessWindowMs: number;
  readonly sources: () => readonly HealthSource[];
  readonly metrics: HealthServerOptions['metrics'];
}

const HealthServerOptionsSchema = z.strictObject({
  port: optionSchemas.port,
  host: optionSchemas.nonEmpty.optional(),
  livenessWindowMs: optionSchemas.positiveMs.optional(),
  sources: optionSchemas.function,
  metrics: optionSchemas.function.optional(),
});

/**
 * Validates {@link startHealthServer}'s options and applies the defaults: a missing, unknown or bad option is a
 * `KwatchError` `INVALID_OPTION` naming it.
 */
export function resolveHealthServerOptions(options: HealthServerOptions): ResolvedHealthServerOptions {
  const o = checkOptions(HealthServerOptionsSchema, options, 'the health server options') as HealthServerOptions;
  return {
    port: o.port,
    host: o.host ?? DEFAULTS.health.host,
    livenessWindowMs: o.livenessWindowMs ?? DEFAULTS.health.livenessWindowMs,
    sources: o.sources,
    metrics: o.metrics,
  };
}

/** A running health server. */
export interface HealthServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * HTTP health endpoints for a watching process: `/healthz` is 200 while events or
 * bookmarks keep arriving (not merely while a connection is open), `/readyz` is 200 once
 * the initial state is complete. Both answer JSON with each watch's health (no secrets).
 * With a `metrics` handler, `/metrics` is answered by it.
 *
 * @example
 * ```ts
 * const server = await startHealthServer({ port: 8080, sources: () => [{ name: 'pods', health: () => w.health(), ready: () => synced }] });
 * ```
 */
export async function startHealthServer(healthOptions: HealthServerOptions): Promise<HealthServer> {
  const options = resolveHealthServerOptions(healthOptions);
  const started = Date.now();
  const windowMs = options.livenessWindowMs;
  const server: Server = createServer((req, res) => {
    if (options.metrics && (req.url === '/metrics' || req.url?.startsWith('/metrics?'))) {
      options.metrics(req, res);
      return;
    }
    const sources = options.sources();
    const now = Date.now();
    const report = sources.map((s) => ({ name: s.name, ready: s.ready(), ...s.health() }));
    let ok: boolean;
    if (req.url === '/healthz') {
      ok = report.every((r) => r.state !== 'failed' && now - (r.lastEventAt ?? started) < windowMs);
    } else if (req.url === '/readyz') {
      ok = report.length > 0 && report.every((r) => r.ready);
    } else {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: ok ? 'ok' : 'unhealthy', watches: report }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
