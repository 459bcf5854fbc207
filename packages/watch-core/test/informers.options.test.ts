// The informer layer's options (InformerFactory, store(), stream(), Store, store.events()): checked and defaulted once.
import { setImmediate as turn } from 'node:timers/promises';
import { ConfigMap } from '@kwatch/models/v1';
import { ManualClock, SimulatedApiServer } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { apiErrorFrom, DEFAULTS, InformerFactory, KwatchError, Store, systemClock, WatchEvent } from '../src/index.ts';
import {
  resolveInformerFactoryOptions,
  resolveInformerOptions,
  resolveInformerStreamOptions,
  resolveStoreEventsOptions,
  resolveStoreOptions,
} from '../src/informers/options.ts';

function refusal(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

function expectRefused(fn: () => unknown, message: string): void {
  const error = refusal(fn);
  expect(error).toBeInstanceOf(KwatchError);
  expect(error).toMatchObject({ code: 'INVALID_OPTION', message });
}

const settle = async (n = 20) => {
  for (let i = 0; i < n; i++) await turn();
};

function world() {
  const clock = new ManualClock();
  const sim = new SimulatedApiServer({ clock, errorFactory: apiErrorFrom });
  sim.create('configmaps', { metadata: { name: 'a', namespace: 'ns' } });
  return { clock, sim };
}

describe('InformerFactory options', () => {
  it.each([
    [{ graceMs: -1 }, 'Expected `graceMs` to be a number of milliseconds >= 0, got -1'],
    [{ graceMs: '3s' }, 'Expected `graceMs` to be a number of milliseconds >= 0, got "3s"'],
    [{ graceMs: Number.POSITIVE_INFINITY }, 'Expected `graceMs` to be a number of milliseconds >= 0, got Infinity'],
    [{ bufferSize: 0 }, 'Expected `bufferSize` to be a positive integer, got 0'],
    [{ bufferSize: 2.5 }, 'Expected `bufferSize` to be a positive integer, got 2.5'],
    [{ kubeConfig: {} }, 'Expected `kubeConfig` to be a KubeConfig from @kubernetes/client-node, got an object (Object)'],
    [{ transport: {} }, 'Expected `transport` to be a WatchTransport, got an object (Object)'],
    [{ clock: {} }, 'Expected `clock` to be a Clock, got an object (Object)'],
    [{ metrics: { meter: {} } }, 'Expected `metrics.meter` to be an OpenTelemetry Meter, got an object (Object)'],
    [{ watcherOptions: { pageSize: 0 } }, 'Expected `watcherOptions.pageSize` to be a positive integer, got 0'],
    [{ watcherOptions: { http2: 'yes' } }, 'Expected `watcherOptions.http2` to be true or false, got "yes"'],
    // What SharedWatcherOptions leaves out belongs to the factory or to each store()/stream().
    [{ watcherOptions: { namespace: 'ns' } }, 'Unknown option `namespace` in `watcherOptions`'],
    [{ watcherOptions: { signal: AbortSignal.abort() } }, 'Unknown option `signal` in `watcherOptions`'],
    [{ grace: 10 }, 'Unknown option `grace`'],
    ['x', 'Expected the InformerFactory options to be an object, got "x"'],
  ])('%o is an INVALID_OPTION naming it, when the factory is made', (options, message) => {
    expectRefused(() => new InformerFactory(options as never), message);
  });

  it('applies DEFAULTS.informers: graceMs 3000, bufferSize 1024; http2 is left to the client (DEFAULTS.client)', () => {
    expect(DEFAULTS.informers).toEqual({ graceMs: 3000, bufferSize: 1024, markers: false });
    expect(resolveInformerFactoryOptions(undefined)).toEqual({
      kubeConfig: undefined,
      transport: undefined,
      graceMs: DEFAULTS.informers.graceMs,
      bufferSize: DEFAULTS.informers.bufferSize,
      watcherOptions: {},
      metrics: undefined,
      clock: systemClock,
    });
    expect(resolveInformerFactoryOptions({ graceMs: 0, bufferSize: 5 })).toMatchObject({ graceMs: 0, bufferSize: 5 });
    expect(resolveInformerFactoryOptions({ watcherOptions: { http2: false } }).watcherOptions).toEqual({ http2: false });
  });

  it('the default grace: a watch stops 3000 ms (DEFAULTS.informers.graceMs) after its last holder left, not before', async () => {
    const { clock, sim } = world();
    const informers = new InformerFactory({ transport: sim, clock });
    const store = informers.store(ConfigMap, { namespace: 'ns' });
    await clock.runUntilSettled(store.synced(), 10_000);
    store.release();
    clock.advance(DEFAULTS.informers.graceMs - 1);
    await settle();
    expect(sim.openWatches).toBe(1);
    clock.advance(1);
    await settle();
    expect(sim.openWatches).toBe(0);
    expect(informers.watches()).toEqual([]);
  });
});

describe('informers.store() and informers.stream() options', () => {
  const informers = new InformerFactory({ transport: new SimulatedApiServer({ errorFactory: apiErrorFrom }) });

  it.each([
    [{ namespace: 5 }, 'Expected `namespace` to be a string, got 5'],
    [{ labelSelector: ['a=b'] }, 'Expected `labelSelector` to be a string, got an object (Array)'],
    [{ metadataOnly: 1 }, 'Expected `metadataOnly` to be true or false, got 1'],
    [{ markers: true }, 'Unknown option `markers`'], // a stream option: a store has no markers
    [{ namespce: 'ns' }, 'Unknown option `namespce`'],
  ])('store(kind, %o) is an INVALID_OPTION naming it', (options, message) => {
    expectRefused(() => informers.store(ConfigMap, options as never), message);
    expect(informers.watches()).toEqual([]); // nothing was opened
  });

  it.each([
    [{ bufferSize: 0 }, 'Expected `bufferSize` to be a positive integer, got 0'],
    [{ markers: 'yes' }, 'Expected `markers` to be true or false, got "yes"'],
    [{ signal: {} }, 'Expected `signal` to be an AbortSignal, got an object (Object)'],
    [{ namespace: 'ns', marker: true }, 'Unknown option `marker`'],
    [null, 'Expected the informer stream options to be an object, got null'],
  ])('stream(kind, %o) is an INVALID_OPTION naming it', (options, message) => {
    expectRefused(() => informers.stream(ConfigMap, options as never), message);
    expect(informers.watches()).toEqual([]);
  });

  it("applies the defaults: no markers (DEFAULTS.informers.markers), the factory's bufferSize, all namespaces", () => {
    expect(resolveInformerOptions(undefined)).toEqual({
      namespace: undefined,
      labelSelector: undefined,
      fieldSelector: undefined,
      metadataOnly: false,
    });
    expect(resolveInformerStreamOptions(undefined, 77)).toEqual({
      namespace: undefined,
      labelSelector: undefined,
      fieldSelector: undefined,
      metadataOnly: false,
      markers: DEFAULTS.informers.markers,
      signal: undefined,
      bufferSize: 77,
    });
    expect(resolveInformerStreamOptions<typeof ConfigMap>({ bufferSize: 3, markers: true, namespace: 'ns' }, 77)).toMatchObject({
      bufferSize: 3,
      markers: true,
      namespace: 'ns',
    });
  });
});

describe('Store and store.events() options', () => {
  it.each([
    [{ transform: 'dropManagedFields' }, 'Expected `transform` to be a function, got "dropManagedFields"'],
    [{ transfrom: (o: unknown) => o }, 'Unknown option `transfrom`'],
    [3, 'Expected the Store options to be an object, got 3'],
  ])('new Store(%o) is an INVALID_OPTION naming it', (options, message) => {
    expectRefused(() => new Store(options as never), message);
  });

  it.each([
    [{ bufferSize: 0 }, 'Expected `bufferSize` to be a positive integer, got 0'],
    [{ bufferSize: '10' }, 'Expected `bufferSize` to be a positive integer, got "10"'],
    [{ signal: 'x' }, 'Expected `signal` to be an AbortSignal, got "x"'],
    [{ buffer: 10 }, 'Unknown option `buffer`'],
  ])('store.events(%o) is an INVALID_OPTION naming it', (options, message) => {
    expectRefused(() => new Store().events(options as never), message);
  });

  it('applies DEFAULTS.storeEvents (bufferSize 1024); a Store keeps objects as they are without a transform', () => {
    expect(DEFAULTS.storeEvents).toEqual({ bufferSize: 1024 });
    expect(resolveStoreEventsOptions(undefined)).toEqual({ signal: undefined, bufferSize: DEFAULTS.storeEvents.bufferSize });
    expect(resolveStoreOptions(undefined)).toEqual({});
    const transform = (o: object) => o;
    expect(resolveStoreOptions({ transform })).toEqual({ transform });
  });

  it('the default bound: an iteration holds 1024 changes (DEFAULTS.storeEvents.bufferSize); one more and it catches up', async () => {
    type Obj = { metadata: { name: string; namespace: string; uid: string; resourceVersion: string } };
    const obj = (i: number): Obj => ({ metadata: { name: `o${i}`, namespace: 'ns', uid: `u${i}`, resourceVersion: String(i) } });
    const bound = DEFAULTS.storeEvents.bufferSize;
    const store = new Store<Obj>();
    store.apply({ type: 'SYNCED', initial: true, resourceVersion: undefined });
    const within = store.events();
    for (let i = 0; i < bound; i++) store.apply(new WatchEvent('ADDED', obj(i)));
    expect((await within.next()).value).toMatchObject({ type: 'ADDED', synthetic: false }); // queued, not dropped
    await within.return(undefined);
    const over = store.events();
    for (let i = bound; i < 2 * bound + 1; i++) store.apply(new WatchEvent('ADDED', obj(i)));
    expect((await over.next()).value).toMatchObject({ type: 'ADDED', synthetic: true }); // dropped: the net difference
    await over.return(undefined);
  });
});
