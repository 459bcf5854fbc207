// What the watcher needs of a connection: a JSON GET and a streaming GET (a KubeClient, or a test's own).
/** A streaming response body: chunks as they arrive, pulled (backpressure), closable. */
export interface StreamBody extends AsyncIterable<Uint8Array> {
  /** Ends the response and frees its connection; `reason` becomes the pending read's error. */
  close(reason?: Error): void;
}

/**
 * How the watcher talks to the API server. The real one is a {@link KubeClient}; tests may
 * supply another. `accept` is the `Accept` header (default `application/json`; metadata-only
 * watches ask for `PartialObjectMetadata`); a transport that ignores it serves full objects.
 */
export interface WatchTransport {
  /** GETs a JSON document (a LIST page). */
  getJson(path: string, query: URLSearchParams, signal: AbortSignal, accept?: string): Promise<unknown>;
  /** Opens a streaming GET (a watch); resolves once a 200 response has started. */
  openStream(path: string, query: URLSearchParams, signal: AbortSignal, accept?: string): Promise<StreamBody>;
}
