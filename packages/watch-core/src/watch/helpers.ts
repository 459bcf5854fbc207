// Kubereq's helpers on a Watcher: watch one object by name, wait until an object matches.
import type { CheckWatchable, KubernetesKind, WatchedObject } from '@kwatch/models';
import type { WatchEvent } from '../internal/index.ts';
import { checkOptionRule, KwatchError, optionalRule, optionRules, requireOption, strictRule } from '../internal/index.ts';
import type { WatcherOptions } from './options.ts';
import { Watcher } from './watcher.ts';

/**
 * Watches one object by name (a `metadata.name` field selector), as Kubereq's `watch_single`.
 *
 * @example
 * ```ts
 * for await (const e of watchSingle(ConfigMap, 'settings', { namespace: 'web' })) console.log(e.type, e.object.data);
 * ```
 */
export function watchSingle<K extends KubernetesKind>(
  kind: K & CheckWatchable<K>,
  name: string,
  options: Omit<WatcherOptions<K>, 'fieldSelector'> = {},
): AsyncGenerator<WatchEvent<WatchedObject<K>>, void, undefined> {
  if (typeof name !== 'string' || name === '') {
    throw new KwatchError('INVALID_OPTION', `Expected \`name\` to be a non-empty string, got ${String(name)}`);
  }
  return new Watcher(kind, { ...options, fieldSelector: `metadata.name=${name}` }).stream();
}

/** Options of {@link waitUntil}: the watcher's, and how long to wait. */
export type WaitUntilOptions<K> = WatcherOptions<K> & {
  /** Give up after this many ms with a `TIMEOUT` error. Default: no limit. */
  readonly timeoutMs?: number;
  /**
   * Give up after this many ms.
   *
   * @deprecated Renamed `timeoutMs` (the unit in the name); the same value. Giving both is an `INVALID_OPTION`.
   */
  readonly timeout?: number;
};

// The watcher's options are the Watcher's to check; the stripped object has these two only.
const WaitOptionsRule = strictRule({
  timeoutMs: optionalRule(optionRules.positiveMs),
  timeout: optionalRule(optionRules.positiveMs),
});

/**
 * Resolves with the first object of `kind` (existing or changed) for which `predicate` is
 * true, as Kubereq's `wait_until`; rejects with `TIMEOUT` after `timeoutMs`, or when the
 * signal aborts. The watch is closed either way.
 *
 * @example
 * ```ts
 * const pod = await waitUntil(Pod, (p) => p.status?.phase === 'Running', { namespace: 'web', timeoutMs: 60_000 });
 * ```
 */
export async function waitUntil<K extends KubernetesKind>(
  kind: K & CheckWatchable<K>,
  predicate: (object: WatchedObject<K>) => boolean,
  options: WaitUntilOptions<K> = {},
): Promise<WatchedObject<K>> {
  const { timeoutMs: ms, timeout: deprecated, ...watcherOptions } = options;
  checkOptionRule(WaitOptionsRule, { timeoutMs: ms, timeout: deprecated }, 'the waitUntil options');
  requireOption(
    deprecated === undefined || ms === undefined,
    'timeout',
    'left out when `timeoutMs` is given (it is its deprecated name)',
    deprecated,
  );
  const timeout = ms ?? deprecated;
  const controller = new AbortController();
  const timer = timeout === undefined ? undefined : setTimeout(() => controller.abort(), timeout);
  const watcher = new Watcher(kind, watcherOptions);
  try {
    for await (const e of watcher.stream({ signal: controller.signal })) {
      if (e.type !== 'DELETED' && predicate(e.object)) return e.object;
    }
    if (options.signal?.aborted) throw new KwatchError('ABORTED', 'waitUntil was aborted');
    throw new KwatchError('TIMEOUT', `No ${watcher.target.info.kind} matched within ${timeout} ms`);
  } finally {
    if (timer) clearTimeout(timer);
    watcher.stop();
  }
}
