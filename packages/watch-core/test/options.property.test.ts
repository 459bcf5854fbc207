// The light option rules refuse exactly what the zod schemas of before refused, with the same message, and never load zod for good options.
import { ConfigMap } from '@kwatch/models/v1';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { resolveKubeClientOptions } from '../src/client/options.ts';
import { KwatchError, Watcher } from '../src/index.ts';
import {
  resolveInformerFactoryOptions,
  resolveInformerOptions,
  resolveInformerStreamOptions,
  resolveStoreEventsOptions,
  resolveStoreOptions,
} from '../src/informers/options.ts';
import { checkOptions, optionSchemas } from '../src/internal/options.ts';
import { resolveMultiplexingWatcherOptions } from '../src/multiplex/multiplexer.ts';
import { resolveStreamOptions, resolveWatcherOptions } from '../src/watch/options.ts';

// The zod schemas every constructor checked its options against before the light rules, as they were (the oracle).
const { string, nonEmpty, boolean, positiveInt, positiveMs, nonNegativeMs, signal, function: fn } = optionSchemas;
const Meter = z.custom((v) => typeof (v as { createCounter?: unknown })?.createCounter === 'function', 'an OpenTelemetry Meter');
const OldWatcher = z.strictObject({
  namespace: string.optional(),
  labelSelector: string.optional(),
  fieldSelector: string.optional(),
  resourceVersion: nonEmpty.optional(),
  timeoutSeconds: z
    .custom(
      (v) => v === null || (typeof v === 'number' && Number.isInteger(v) && v >= 0),
      'a positive integer, or 0 or null for no timeout',
    )
    .optional(),
  allowWatchBookmarks: boolean.optional(),
  kubeConfig: z
    .custom(
      (v) =>
        typeof (v as { applySecurityAuthentication?: unknown })?.applySecurityAuthentication === 'function' &&
        typeof (v as { getCurrentCluster?: unknown })?.getCurrentCluster === 'function',
      'a KubeConfig from @kubernetes/client-node',
    )
    .optional(),
  http2: boolean.optional(),
  signal: signal.optional(),
  inactivityTimeoutMs: positiveMs.optional(),
  backoff: z
    .strictObject({
      initialMs: positiveMs.optional(),
      maxMs: positiveMs.optional(),
      factor: z.number({ error: 'a number >= 1' }).min(1, { error: 'a number >= 1' }).optional(),
      resetAfterMs: positiveMs.optional(),
    })
    .optional(),
  // Changed on purpose: Infinity, the default, may be given too (the number schema refused it).
  maxConsecutiveErrors: z.custom((v) => typeof v === 'number' && v > 0, 'a positive number, or Infinity').optional(),
  maxLineBytes: positiveInt.optional(),
  pageSize: positiveInt.optional(),
  watchList: z.union([z.literal('auto'), z.boolean()], { error: "'auto', true or false" }).optional(),
  metadataOnly: boolean.optional(),
  hooks: z
    .strictObject(
      Object.fromEntries(['connected', 'reconnecting', 'relisted', 'bookmark', 'error'].map((name) => [name, fn.optional()])),
    )
    .optional(),
  metrics: z.strictObject({ meter: Meter, namespaceLabel: boolean.optional() }).optional(),
  transport: z.custom((v) => typeof (v as { openStream?: unknown })?.openStream === 'function', 'a WatchTransport').optional(),
  clock: z.custom((v) => typeof (v as { setTimeout?: unknown })?.setTimeout === 'function', 'a Clock').optional(),
});
const OldStream = z.strictObject({
  manageResourceVersion: boolean.optional(),
  quitOnTimeout: boolean.optional(),
  signal: signal.optional(),
  markers: boolean.optional(),
  connectLimiter: fn.optional(),
  resume: z
    .custom(
      (v) => typeof (v as { load?: unknown })?.load === 'function' && typeof (v as { save?: unknown })?.save === 'function',
      'an object with load() and save()',
    )
    .optional(),
});
const { kubeConfig, transport, metrics, clock } = OldWatcher.shape;
const OldFactory = z.strictObject({
  kubeConfig,
  transport,
  graceMs: nonNegativeMs.optional(),
  bufferSize: positiveInt.optional(),
  watcherOptions: OldWatcher.omit({
    namespace: true,
    labelSelector: true,
    fieldSelector: true,
    metadataOnly: true,
    resourceVersion: true,
    kubeConfig: true,
    transport: true,
    signal: true,
    clock: true,
    metrics: true,
  }).optional(),
  metrics,
  clock,
});
const OldInformer = z.strictObject({
  namespace: string.nullable().optional(),
  labelSelector: string.optional(),
  fieldSelector: string.optional(),
  metadataOnly: boolean.optional(),
});
const OldInformerStream = OldInformer.extend({
  markers: boolean.optional(),
  signal: signal.optional(),
  bufferSize: positiveInt.optional(),
});
const OldStore = z.strictObject({ transform: fn.optional() });
const OldStoreEvents = z.strictObject({ signal: signal.optional(), bufferSize: positiveInt.optional() });
const OldMultiplexer = z.strictObject({
  watchers: z
    .array(
      z.custom((v) => v instanceof Watcher, 'a Watcher'),
      { error: 'an array of Watchers' },
    )
    .optional(),
  exceptionCallback: fn.optional(),
  connectConcurrency: positiveInt.optional(),
  bufferSize: positiveInt.optional(),
  restartBackoff: OldWatcher.shape.backoff,
  onCulled: fn.optional(),
  clock: OldWatcher.shape.clock,
});
const OldKubeClient = z.strictObject({
  kubeConfig: z
    .custom(
      (v) =>
        typeof (v as { getCurrentCluster?: unknown })?.getCurrentCluster === 'function' ||
        (typeof (v as { cluster?: { server?: unknown } })?.cluster?.server === 'string' &&
          typeof (v as { user?: unknown })?.user === 'object'),
      'a KubeConfig from @kubernetes/client-node or a Kubeconfig from readKubeconfig()',
    )
    .optional(),
  http2: boolean.optional(),
  readIdleMs: positiveMs.optional(),
  pingTimeoutMs: positiveMs.optional(),
});

const hang = (_p: string, _q: URLSearchParams, s: AbortSignal) =>
  new Promise<never>((_, reject) => s.addEventListener('abort', () => reject(s.reason)));
const fakeTransport = { getJson: hang, openStream: hang };
const aWatcher = new Watcher(ConfigMap, { transport: fakeTransport });

/** Values that sit on and around every rule's edges. */
const leaf = fc.constantFrom<unknown>(
  undefined,
  null,
  0,
  -0,
  -1,
  1,
  1.5,
  65_536,
  2 ** 60,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '',
  'x',
  'auto',
  '5',
  true,
  false,
  {},
  [],
  () => {},
  new AbortController().signal,
  { applySecurityAuthentication: () => {}, getCurrentCluster: () => {} },
  { getCurrentCluster: () => {} },
  { cluster: { server: 'https://x' }, user: {} },
  fakeTransport,
  { setTimeout: () => {} },
  { createCounter: () => {} },
  { load: async () => undefined, save: async () => {} },
  aWatcher,
  [aWatcher],
  [aWatcher, 1],
  // biome-ignore lint/suspicious/noSparseArray: a hole is a value zod reads as undefined
  [, aWatcher],
);
const KEYS = [
  ...new Set([
    ...Object.keys(OldWatcher.shape),
    ...Object.keys(OldStream.shape),
    ...Object.keys(OldFactory.shape),
    ...Object.keys(OldInformerStream.shape),
    ...Object.keys(OldMultiplexer.shape),
    ...Object.keys(OldKubeClient.shape),
    'initialMs',
    'maxMs',
    'factor',
    'resetAfterMs',
    'connected',
    'error',
    'meter',
    'namespaceLabel',
    'transform',
  ]),
];
/** Objects of known (and a few unknown) keys, nested two deep, mostly with few keys so one bad value decides. */
const options = fc.letrec<{ value: unknown; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof({ weight: 4, arbitrary: leaf }, { weight: 1, arbitrary: tie('object') }),
  object: fc.dictionary(
    fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.constantFrom('pagesize', 'x') }),
    tie('value'),
    {
      maxKeys: 3,
      depthIdentifier: 'o',
    },
  ),
})).object;

/** What a check says: `ok`, or its INVALID_OPTION message. */
function outcome(check: () => unknown): string {
  try {
    check();
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(KwatchError);
    expect(e).toMatchObject({ code: 'INVALID_OPTION' });
    return (e as Error).message;
  }
}

const cases: Array<[string, z.ZodType, string, (o: never) => unknown]> = [
  // Their callers give `{}` for no options.
  ['Watcher', OldWatcher, 'the watcher options', (o) => resolveWatcherOptions(o === undefined ? {} : o)],
  ['stream()', OldStream, 'the stream options', (o) => resolveStreamOptions(o === undefined ? {} : o)],
  ['InformerFactory', OldFactory, 'the InformerFactory options', resolveInformerFactoryOptions],
  ['informers.store()', OldInformer, 'the informer options', resolveInformerOptions],
  ['informers.stream()', OldInformerStream, 'the informer stream options', (o) => resolveInformerStreamOptions(o, 1024)],
  ['Store', OldStore, 'the Store options', resolveStoreOptions],
  ['store.events()', OldStoreEvents, 'the store events options', resolveStoreEventsOptions],
  ['MultiplexingWatcher', OldMultiplexer, 'the MultiplexingWatcher options', resolveMultiplexingWatcherOptions],
  ['KubeClient', OldKubeClient, 'the KubeClient options', resolveKubeClientOptions],
];

describe('every constructor refuses what its zod schema refused, in the same words', () => {
  it.each(cases)('%s', (_name, schema, what, resolve) => {
    fc.assert(
      fc.property(fc.oneof({ weight: 19, arbitrary: options }, { weight: 1, arbitrary: leaf }), (value) => {
        expect(outcome(() => resolve(value as never))).toBe(outcome(() => checkOptions(schema, value, what)));
      }),
      { numRuns: 3000 },
    );
  });

  it('also on objects that are good but for one value', () => {
    // One known key with an edge value, the others good: the message names that key.
    for (const [, schema, what, resolve] of cases) {
      const keys = Object.keys((schema as z.ZodObject).shape);
      fc.assert(
        fc.property(fc.constantFrom(...keys), leaf, (key, value) => {
          const o = { [key]: value };
          expect(outcome(() => resolve(o as never))).toBe(outcome(() => checkOptions(schema, o, what)));
        }),
        { numRuns: 500 },
      );
    }
  });
});
