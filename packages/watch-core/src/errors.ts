import { KwatchError, type KwatchErrorCode, type Status } from '@kwatch/models';

export { isKwatchError, KindError, KwatchError, type KwatchErrorCode } from '@kwatch/models';

/**
 * The API server refused a request, by HTTP status or by an ERROR event in a watch
 * stream. `status` is the server's own Status object when it sent one.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof ApiError && e.code === 'FORBIDDEN') console.error(e.status?.message); }
 * ```
 */
export class ApiError extends KwatchError {
  override name = 'ApiError';
  /** The HTTP status (or the Status `code` of an ERROR event). */
  readonly httpStatus: number;
  /** The server's Status, when it sent one. */
  readonly status: Status | undefined;
  /** How long the server asked us to wait (Retry-After, or Status details.retryAfterSeconds), in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: KwatchErrorCode,
    message: string,
    init: { httpStatus: number; status?: Status | undefined; retryAfterMs?: number | undefined; retryable: boolean },
  ) {
    super(code, message, { retryable: init.retryable });
    this.httpStatus = init.httpStatus;
    this.status = init.status;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** A watch or list answered 410 Gone: the resourceVersion is older than the server keeps. */
export class GoneError extends ApiError {
  override name = 'GoneError';
}

/** A line of the watch stream that is not a watch event. The line itself is never put in the message (it may hold a Secret). */
export class DecodeError extends KwatchError {
  override name = 'DecodeError';
}

/** The connection failed, was cut, or stalled. Always retryable. */
export class TransportError extends KwatchError {
  override name = 'TransportError';
}

function codeFor(httpStatus: number): KwatchErrorCode {
  if (httpStatus === 401) return 'UNAUTHORIZED';
  if (httpStatus === 403) return 'FORBIDDEN';
  if (httpStatus === 404) return 'NOT_FOUND';
  if (httpStatus === 410) return 'GONE';
  if (httpStatus === 429) return 'TOO_MANY_REQUESTS';
  if (httpStatus >= 500) return 'SERVER_ERROR';
  return 'HTTP_ERROR';
}

/**
 * Builds the error for a refused request. `where` names the request (method and path,
 * never headers); the message is the server's own when it gave one.
 */
export function apiErrorFrom(
  httpStatus: number,
  status: Status | undefined,
  where: string,
  retryAfterHeader?: string | null,
): ApiError {
  const code = codeFor(httpStatus);
  const fromHeader = retryAfterHeader ? Number(retryAfterHeader) * 1000 : Number.NaN;
  const fromStatus = (status?.details?.retryAfterSeconds ?? Number.NaN) * 1000;
  const retryAfterMs = Number.isFinite(fromHeader) ? fromHeader : Number.isFinite(fromStatus) ? fromStatus : undefined;
  const what = status?.message ?? status?.reason ?? 'no Status in the response';
  const message = `${where}: ${httpStatus} ${status?.reason ?? ''}${status?.reason ? ': ' : ''}${what}`;
  const retryable = code === 'TOO_MANY_REQUESTS' || code === 'SERVER_ERROR';
  const Ctor = code === 'GONE' ? GoneError : ApiError;
  return new Ctor(code, message, { httpStatus, status, retryAfterMs, retryable });
}
