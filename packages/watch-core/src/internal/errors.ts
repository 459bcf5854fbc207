// watch-core's one entrance to the error classes (defined once in @kwatch/models), and the builders on top of them.
import {
  ApiError,
  type CodesOf,
  ConfigError,
  DecodeError,
  ERROR_CODES,
  GoneError,
  KindError,
  KwatchError,
  type KwatchErrorClass,
  type KwatchErrorCode,
  type Status,
  TransportError,
} from '@kwatch/models';

export {
  ApiError,
  type CodesOf,
  ConfigError,
  DecodeError,
  ERROR_CODES,
  GoneError,
  isKwatchError,
  KindError,
  KwatchError,
  type KwatchErrorClass,
  type KwatchErrorCode,
  TransportError,
} from '@kwatch/models';

const CLASSES = {
  KwatchError,
  KindError,
  ApiError,
  GoneError,
  DecodeError,
  TransportError,
  ConfigError,
} as const satisfies Record<KwatchErrorClass, unknown>;

/**
 * Builds the error of `code`, as the class {@link ERROR_CODES} gives it (an `ApiError` needs
 * `httpStatus`; other classes ignore it). Turns anything else into a kwatch error too.
 *
 * @example
 * ```ts
 * throw errorFor('STALLED', 'No data for 120 s'); // a TransportError, retryable
 * ```
 */
export function errorFor(
  code: KwatchErrorCode,
  message: string,
  init: { cause?: unknown; httpStatus?: number; status?: Status | undefined; retryAfterMs?: number | undefined } = {},
): KwatchError {
  const Ctor = CLASSES[ERROR_CODES[code].class];
  if (Ctor === ApiError || Ctor === GoneError) {
    return new Ctor(code as never, message, {
      httpStatus: init.httpStatus ?? 0,
      status: init.status,
      retryAfterMs: init.retryAfterMs,
    });
  }
  // The table chose the class for this code; its constructor checks the pair again.
  return new (Ctor as typeof KwatchError)(code as CodesOf<'KwatchError'>, message, { cause: init.cause });
}

/**
 * Whatever was thrown, as a kwatch error: kwatch errors unchanged, anything else a retryable
 * `NETWORK_ERROR` whose cause is the original (its message kept, its stack not shown).
 *
 * @example
 * ```ts
 * catch (e) { hooks.error?.(asKwatchError(e)); }
 * ```
 */
export function asKwatchError(err: unknown): KwatchError {
  if (err instanceof KwatchError) return err;
  return new TransportError('NETWORK_ERROR', `Unexpected failure: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
  });
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
 *
 * @example
 * ```ts
 * apiErrorFrom(410, status, 'GET /api/v1/pods'); // a GoneError, code GONE
 * ```
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
  return errorFor(code, message, { httpStatus, status, retryAfterMs }) as ApiError;
}
