/** Stable codes of every kwatch error; match on these, not on messages. */
export type KwatchErrorCode =
  | 'NOT_A_KIND'
  | 'NOT_WATCHABLE'
  | 'NOT_NAMESPACED_WATCHABLE'
  | 'INVALID_RESOURCE'
  | 'INVALID_CRD'
  | 'INVALID_OPTION'
  | 'DECODE_ERROR'
  | 'LINE_TOO_LONG'
  | 'GONE'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'HTTP_ERROR'
  | 'SERVER_ERROR'
  | 'TOO_MANY_REQUESTS'
  | 'NETWORK_ERROR'
  | 'STALLED'
  | 'TLS_ERROR'
  | 'ABORTED'
  | 'ALREADY_STREAMING'
  | 'TIMEOUT'
  | 'CREDENTIALS_ERROR';

/**
 * The base of every error kwatch throws or reports. `code` is stable; `retryable` says
 * whether trying the same thing again can succeed.
 *
 * @example
 * ```ts
 * try { new Watcher(Node, { namespace: 'x' } as never); }
 * catch (e) { if (isKwatchError(e) && e.code === 'NOT_NAMESPACED_WATCHABLE') console.error(e.message); }
 * ```
 */
export class KwatchError extends Error {
  override name = 'KwatchError';
  readonly code: KwatchErrorCode;
  readonly retryable: boolean;

  constructor(code: KwatchErrorCode, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * A value given as a kind is not one, or names a kind that cannot be watched the way asked.
 * Its messages follow Hikaru's: "Node has no namespaced watcher support".
 */
export class KindError extends KwatchError {
  override name = 'KindError';
}

const brand = Symbol.for('kwatch.error');
Object.defineProperty(KwatchError.prototype, brand, { value: true });

/** True for any kwatch error, even from another copy of the package. */
export function isKwatchError(value: unknown): value is KwatchError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}
