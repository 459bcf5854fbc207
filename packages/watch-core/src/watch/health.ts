// WatcherHealth: what a watcher reports of its state and its failures, derived in one place.
import type { KwatchErrorCode } from '../internal/index.ts';
import type { Memory, State } from './machine.ts';

/**
 * What a watcher's health reports.
 *
 * @example
 * ```ts
 * const { state, consecutiveErrors, lastError } = watcher.health();
 * if (consecutiveErrors > 3) console.warn(`watch failing (${state}):`, lastError?.code, lastError?.message);
 * ```
 */
export interface WatcherHealth {
  /** `idle`: not streaming yet, or sharded and owning no range at the moment. */
  state: 'idle' | 'listing' | 'connecting' | 'watching' | 'backoff' | 'stopped' | 'failed';
  /** When the last event or bookmark arrived (ms since the epoch), if any. */
  lastEventAt: number | undefined;
  /** The resourceVersion the next stream resumes after (what the consumer has taken); undefined while syncing. */
  resourceVersion: string | undefined;
  /** Watch requests opened after the first one. */
  reconnects: number;
  /** Relists after 410 Gone (not counting the initial list). */
  relists: number;
  /** Failures since the last live event or bookmark (a watcher failing on every request counts up here). */
  consecutiveErrors: number;
  /** Requests sent (connects and LIST pages), across all streams. */
  requests: number;
  /** The last failure, retried or not: its code and message (never a credential). */
  lastError: { code: KwatchErrorCode; message: string } | undefined;
  /**
   * A sharded watcher: whether its last LIST was filtered by the server (`shardSelector` honoured: kube-apiserver
   * ≥ 1.36 with `ShardedListAndWatch`, it echoed `shardInfo`) or only on the client. `undefined` unsharded, or before
   * a LIST (a WatchList sync does not say).
   */
  shardFiltering?: 'server' | 'client' | undefined;
}

const STATES = {
  start: 'connecting',
  list: 'listing',
  connect: 'connecting',
  backoff: 'backoff',
  idle: 'idle',
  fatal: 'failed',
  done: 'stopped',
} as const;

/** Health, derived in one place from the running state (or how the last stream ended) and the watcher's memory. */
export function healthOf(state: State | 'idle' | 'stopped' | 'failed', memory: Memory): WatcherHealth {
  const { counters, position, pacer, lastError } = memory;
  return {
    state:
      typeof state === 'string' ? state : state.kind === 'watch' ? (state.sync ? 'listing' : 'watching') : STATES[state.kind],
    lastEventAt: counters.lastEventAt,
    resourceVersion: position.sync ? undefined : position.resourceVersion,
    reconnects: counters.reconnects,
    relists: counters.relists,
    consecutiveErrors: pacer.consecutiveFailures,
    requests: pacer.requests,
    lastError: lastError && { code: lastError.code, message: lastError.message },
    ...(memory.shardFiltering ? { shardFiltering: memory.shardFiltering } : {}),
  };
}
