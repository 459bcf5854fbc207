// Kubernetes Status objects of the simulator's refusals, and the errors a transport throws for them.
/**
 * A Kubernetes `Status` object, as the apiserver sends it in an error response body or in
 * a watch `ERROR` event. (A type, not an interface, so that it fits kwatch's `Status`, which has an index signature.)
 *
 * @example
 * ```ts
 * const gone: SimStatus = statusOf(410, 'Expired', 'too old resource version: 5 (10)');
 * ```
 */
export type SimStatus = {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  code: number;
  details?: { retryAfterSeconds?: number };
};

/**
 * Builds a failure `Status`.
 *
 * @example
 * ```ts
 * statusOf(429, 'TooManyRequests', 'slow down', 2); // details.retryAfterSeconds = 2
 * ```
 */
export function statusOf(code: number, reason: string, message: string, retryAfterSeconds?: number): SimStatus {
  const status: SimStatus = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (retryAfterSeconds !== undefined) status.details = { retryAfterSeconds };
  return status;
}

/**
 * Turns a refused request into the error the transport throws. kwatch's own `apiErrorFrom`
 * has exactly this signature, so a kwatch test passes it in and gets kwatch's typed errors
 * (`GoneError`, `ApiError` with `retryAfterMs`) without the simulator depending on kwatch.
 *
 * @example
 * ```ts
 * import { apiErrorFrom } from '@kwatch/watch-core';
 * new SimulatedApiServer({ errorFactory: apiErrorFrom });
 * ```
 */
export type SimErrorFactory = (httpStatus: number, status: SimStatus, where: string, retryAfterHeader?: string | null) => Error;

/**
 * The error thrown for a refused request when no `errorFactory` was given: it carries the
 * same fields as kwatch's `ApiError` (`httpStatus`, `status`, `retryAfterMs`), but is not one.
 *
 * @example
 * ```ts
 * try { await sim.getJson('/api/v1/nope', new URLSearchParams(), signal); }
 * catch (e) { if (e instanceof SimHttpError) console.log(e.httpStatus, e.status.reason); }
 * ```
 */
export class SimHttpError extends Error {
  override name = 'SimHttpError';
  readonly httpStatus: number;
  readonly status: SimStatus;
  readonly retryAfterMs: number | undefined;

  constructor(httpStatus: number, status: SimStatus, where: string, retryAfterHeader?: string | null) {
    super(`${where}: ${httpStatus} ${status.reason}: ${status.message}`);
    this.httpStatus = httpStatus;
    this.status = status;
    const seconds = retryAfterHeader ? Number(retryAfterHeader) : (status.details?.retryAfterSeconds ?? Number.NaN);
    this.retryAfterMs = Number.isFinite(seconds) ? seconds * 1000 : undefined;
  }
}

/**
 * The default {@link SimErrorFactory}: a {@link SimHttpError}.
 *
 * @example
 * ```ts
 * throw defaultErrorFactory(404, statusOf(404, 'NotFound', 'no such resource'), 'GET /api/v1/foos');
 * ```
 */
export const defaultErrorFactory: SimErrorFactory = (httpStatus, status, where, retryAfterHeader) =>
  new SimHttpError(httpStatus, status, where, retryAfterHeader);

/** Reasons the apiserver gives for the HTTP statuses the simulator uses. */
export function reasonFor(code: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    404: 'NotFound',
    410: 'Expired',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return reasons[code] ?? 'Unknown';
}
