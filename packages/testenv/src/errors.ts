// TestenvError, the one error class of @kwatch/testenv, and its stable codes.
/** Stable codes of {@link TestenvError}. */
export type TestenvErrorCode =
  | 'BUILD_FAILED'
  | 'BINARY_MISSING'
  | 'CERTS_FAILED'
  | 'START_FAILED'
  | 'NOT_READY'
  | 'ETCD_REQUEST_FAILED'
  | 'NOT_RUNNING'
  | 'INVALID_OPTION';

/**
 * The one error class of `@kwatch/testenv`; `code` says what failed.
 *
 * @example
 * ```ts
 * try { await startControlPlane(); }
 * catch (e) { if (e instanceof TestenvError && e.code === 'NOT_READY') console.error(e.logDir); }
 * ```
 */
export class TestenvError extends Error {
  override readonly name = 'TestenvError';
  readonly code: TestenvErrorCode;
  /** Where the failed control plane's logs were kept, when there are any. */
  readonly logDir: string | undefined;

  constructor(code: TestenvErrorCode, message: string, options: { cause?: unknown; logDir?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.logDir = options.logDir;
  }
}
