// Credentials: what each request needs of a kubeconfig (server, TLS, token), asked before every request.
import type { Dispatcher } from 'undici';
import type { Endpoint } from './endpoint.ts';

/** What one request needs from a kubeconfig: where the API server is, and who we are. */
export interface Prepared {
  /** The API server's base URL, without a trailing slash. */
  readonly server: string;
  /** Authentication headers (`Authorization`, impersonation); never logged. */
  readonly headers: Readonly<Record<string, string>>;
  /** Where and as whom to connect (kwatch's own connections; through undici when it names a proxy). */
  readonly endpoint?: Endpoint | undefined;
  /** Or an undici dispatcher (a client-node KubeConfig's); neither: undici's global dispatcher. */
  readonly dispatcher?: Dispatcher | undefined;
}

/**
 * A source of credentials, asked before every request, so that rotated tokens, token files
 * and expiring exec credentials are picked up. Implementations cache what is still valid.
 */
export interface Credentials {
  /** The server, headers and connections for the next request. Throws a `ConfigError` when it cannot. */
  prepare(http2: boolean): Promise<Prepared>;
  /**
   * The server answered 401 to what `prepare` gave: forget cached credentials (re-run the exec
   * plugin, re-read the token file). True when asking again may give other credentials.
   */
  refresh(): boolean;
}
