// Every kwatch error class and the one table of their codes; each class accepts only its own codes.
// Defined once, here: @kwatch/models throws them (kinds, schemas) and is the bottom package. @kwatch/watch-core
// re-exports them (its internal/errors.ts) and every package above imports them from @kwatch/watch-core.
import type { Status } from './schemas.ts';

/**
 * Every kwatch error code, with the class it is thrown as and whether trying the same thing
 * again can succeed. This table is the only place that decides either: a constructor takes a
 * code and nothing else about it, and refuses a code the table gives to another class.
 */
export const ERROR_CODES = {
  NOT_A_KIND: { class: 'KindError', retryable: false },
  NOT_WATCHABLE: { class: 'KindError', retryable: false },
  NOT_NAMESPACED_WATCHABLE: { class: 'KindError', retryable: false },
  INVALID_RESOURCE: { class: 'KwatchError', retryable: false },
  INVALID_CRD: { class: 'KwatchError', retryable: false },
  INVALID_OPTION: { class: 'KwatchError', retryable: false },
  /** A line of the watch stream that is not a watch event (reconnecting resends it). */
  DECODE_ERROR: { class: 'DecodeError', retryable: true },
  LINE_TOO_LONG: { class: 'DecodeError', retryable: false },
  /** An object that does not match the resource's zod schema (the server will send it again as it is). */
  SCHEMA_MISMATCH: { class: 'DecodeError', retryable: false },
  GONE: { class: 'GoneError', retryable: false },
  UNAUTHORIZED: { class: 'ApiError', retryable: false },
  FORBIDDEN: { class: 'ApiError', retryable: false },
  NOT_FOUND: { class: 'ApiError', retryable: false },
  HTTP_ERROR: { class: 'ApiError', retryable: false },
  SERVER_ERROR: { class: 'ApiError', retryable: true },
  TOO_MANY_REQUESTS: { class: 'ApiError', retryable: true },
  NETWORK_ERROR: { class: 'TransportError', retryable: true },
  STALLED: { class: 'TransportError', retryable: true },
  /** A watch that the server (or a proxy) ended within a second without sending anything. */
  EARLY_CLOSE: { class: 'TransportError', retryable: true },
  /**
   * A LIST page (or the WatchList's initial events) that brought no progress: a continue token repeated, a page
   * without an object its list had not listed yet, an object streamed twice. The sync starts over, paced.
   */
  NO_PROGRESS: { class: 'TransportError', retryable: true },
  TLS_ERROR: { class: 'TransportError', retryable: false },
  CREDENTIALS_ERROR: { class: 'ConfigError', retryable: false },
  KUBECONFIG_ERROR: { class: 'ConfigError', retryable: false },
  /** A watching process's settings (`@kwatch/toolkit`'s `loadConfig`): a token without an API server endpoint. */
  MISSING_ENDPOINT: { class: 'ConfigError', retryable: false },
  /** An API server endpoint without a token. */
  MISSING_TOKEN: { class: 'ConfigError', retryable: false },
  /** Nothing to watch: no resource given. */
  MISSING_RESOURCE: { class: 'ConfigError', retryable: false },
  /** A config file that cannot be read or parsed. */
  CONFIG_FILE_ERROR: { class: 'ConfigError', retryable: false },
  /** A setting with a value it cannot have (e.g. `LOG_LEVEL`). */
  INVALID_SETTING: { class: 'ConfigError', retryable: false },
  /** A watcher plugin that cannot be loaded or lacks `handleEvent`. */
  PLUGIN_ERROR: { class: 'ConfigError', retryable: false },
  ABORTED: { class: 'KwatchError', retryable: false },
  ALREADY_STREAMING: { class: 'KwatchError', retryable: false },
  TIMEOUT: { class: 'KwatchError', retryable: false },
  /**
   * A Store's index function threw (`addIndex` over the stored objects, or that index's `byIndex` / `indexValues`
   * after it threw on a later object); the function's error is the `cause`. The same function throws again.
   */
  INDEX_FUNCTION_FAILED: { class: 'KwatchError', retryable: false },
  /** A shared watch's subscriber fell more than its queue bound behind: it is resynced from the store (the reason of that `RESYNC`). */
  SUBSCRIBER_OVERFLOW: { class: 'KwatchError', retryable: true },
  /** A sharded watch's ranges changed (a replica joined or left its ring): the reason of the `RESYNC` of the new ranges. */
  RESHARDED: { class: 'KwatchError', retryable: true },
} as const satisfies Record<string, { class: string; retryable: boolean }>;

/** Stable codes of every kwatch error; match on these, not on messages. */
export type KwatchErrorCode = keyof typeof ERROR_CODES;

/** The name of a kwatch error class, as {@link ERROR_CODES} gives it. */
export type KwatchErrorClass = (typeof ERROR_CODES)[KwatchErrorCode]['class'];

/**
 * The codes of class `C`: the only codes its constructor accepts (at compile time by this type, at run time by
 * the table).
 */
export type CodesOf<C extends KwatchErrorClass> = {
  [K in KwatchErrorCode]: (typeof ERROR_CODES)[K]['class'] extends C ? K : never;
}[KwatchErrorCode];

/**
 * The run-time half of {@link CodesOf}: `code` must be in the table and belong to `ctor`'s class (its static
 * `errorClass`, inherited by a subclass that does not set its own). A TypeError names both classes otherwise.
 */
function checkCode(ctor: { readonly errorClass?: KwatchErrorClass }, code: unknown): KwatchErrorCode {
  const own = ctor.errorClass ?? 'KwatchError';
  if (typeof code !== 'string' || !Object.hasOwn(ERROR_CODES, code)) {
    const shown = typeof code === 'string' ? JSON.stringify(code) : String(code);
    throw new TypeError(`${own} cannot be built with code ${shown}: it is not a kwatch error code (ERROR_CODES)`);
  }
  const owner = ERROR_CODES[code as KwatchErrorCode].class;
  if (owner !== own) {
    throw new TypeError(`${own} cannot be built with code ${code}: ERROR_CODES gives ${code} to ${owner}`);
  }
  return code as KwatchErrorCode;
}

/**
 * The base of every error kwatch throws or reports. `code` is stable; `retryable` says
 * whether trying the same thing again can succeed, and is fixed by the code
 * ({@link ERROR_CODES}).
 *
 * @example
 * ```ts
 * try { new Watcher(Node, { namespace: 'x' } as never); }
 * catch (e) { if (isKwatchError(e) && e.code === 'NOT_NAMESPACED_WATCHABLE') console.error(e.message); }
 * ```
 */
export class KwatchError extends Error {
  /** The class name {@link ERROR_CODES} uses for this class: its constructor accepts only those codes. */
  static readonly errorClass: KwatchErrorClass = 'KwatchError';
  override name = 'KwatchError';
  readonly code: KwatchErrorCode;
  readonly retryable: boolean;

  /**
   * @param code - one of this class's codes ({@link CodesOf}); another class's code is a TypeError naming both.
   */
  constructor(code: CodesOf<'KwatchError'>, message: string, options: { cause?: unknown } = {}) {
    const checked = checkCode(new.target, code);
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = checked;
    this.retryable = ERROR_CODES[checked].retryable;
  }
}

/**
 * A value given as a kind is not one, or names a kind that cannot be watched the way asked.
 * Its messages follow Hikaru's: "Node has no namespaced watcher support".
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof KindError) console.error(e.code, e.message); }
 * ```
 */
export class KindError extends KwatchError {
  static override readonly errorClass: KwatchErrorClass = 'KindError';
  override name = 'KindError';
  constructor(code: CodesOf<'KindError'>, message: string, options?: { cause?: unknown }) {
    super(code as CodesOf<'KwatchError'>, message, options); // the table checks the code against this class
  }
}

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
  static override readonly errorClass: KwatchErrorClass = 'ApiError';
  override name = 'ApiError';
  /** The HTTP status (or the Status `code` of an ERROR event). */
  readonly httpStatus: number;
  /** The server's Status, when it sent one. */
  readonly status: Status | undefined;
  /** How long the server asked us to wait (Retry-After, or Status details.retryAfterSeconds), in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: CodesOf<'ApiError'>,
    message: string,
    init: { httpStatus: number; status?: Status | undefined; retryAfterMs?: number | undefined },
  ) {
    super(code as CodesOf<'KwatchError'>, message); // the table checks the code against this class
    this.httpStatus = init.httpStatus;
    this.status = init.status;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/**
 * A watch or list answered 410 Gone: the resourceVersion is older than the server keeps.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof GoneError) watcher.updateResourceVersion(freshVersion); }
 * ```
 */
export class GoneError extends ApiError {
  static override readonly errorClass: KwatchErrorClass = 'GoneError';
  override name = 'GoneError';
  constructor(
    code: CodesOf<'GoneError'>,
    message: string,
    init: { httpStatus: number; status?: Status | undefined; retryAfterMs?: number | undefined },
  ) {
    super(code as CodesOf<'ApiError'>, message, init); // the table checks the code against this class
  }
}

/**
 * A line of the watch stream that is not a watch event, one too long, or an object that does
 * not match the resource's schema. The line itself is never put in the message (it may hold a
 * Secret).
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof DecodeError && e.code === 'SCHEMA_MISMATCH') console.error(e.message); }
 * ```
 */
export class DecodeError extends KwatchError {
  static override readonly errorClass: KwatchErrorClass = 'DecodeError';
  override name = 'DecodeError';
  constructor(code: CodesOf<'DecodeError'>, message: string, options?: { cause?: unknown }) {
    super(code as CodesOf<'KwatchError'>, message, options); // the table checks the code against this class
  }
}

/**
 * The connection failed, was cut, stalled, closed at once, brought a LIST page without progress
 * (`NO_PROGRESS`), or its TLS verification failed (`TLS_ERROR`, the only one not retryable).
 *
 * @example
 * ```ts
 * hooks: { reconnecting: ({ error }) => error instanceof TransportError && console.warn(error.code) }
 * ```
 */
export class TransportError extends KwatchError {
  static override readonly errorClass: KwatchErrorClass = 'TransportError';
  override name = 'TransportError';
  constructor(code: CodesOf<'TransportError'>, message: string, options?: { cause?: unknown }) {
    super(code as CodesOf<'KwatchError'>, message, options); // the table checks the code against this class
  }
}

/**
 * The kubeconfig could not be read (`KUBECONFIG_ERROR`: missing, malformed) or could not
 * prepare a request (`CREDENTIALS_ERROR`: an exec plugin failed, plain HTTP without an explicit
 * insecure setting); or a watching process's settings are incomplete or wrong (`MISSING_ENDPOINT`,
 * `MISSING_TOKEN`, `MISSING_RESOURCE`, `CONFIG_FILE_ERROR`, `INVALID_SETTING`, `PLUGIN_ERROR`: `@kwatch/toolkit`'s
 * `loadConfig` and `loadPlugin`, whose `exitCodeOf` maps each to its process exit code). Never quotes a credential.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof ConfigError) console.error('check your kubeconfig:', e.message); }
 * ```
 */
export class ConfigError extends KwatchError {
  static override readonly errorClass: KwatchErrorClass = 'ConfigError';
  override name = 'ConfigError';
  constructor(code: CodesOf<'ConfigError'>, message: string, options?: { cause?: unknown }) {
    super(code as CodesOf<'KwatchError'>, message, options); // the table checks the code against this class
  }
}

const brand = Symbol.for('kwatch.error');
Object.defineProperty(KwatchError.prototype, brand, { value: true });

/**
 * True for any kwatch error, even from another copy of the package.
 *
 * @example
 * ```ts
 * catch (e) { if (isKwatchError(e) && e.retryable) retryLater(); }
 * ```
 */
export function isKwatchError(value: unknown): value is KwatchError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}
