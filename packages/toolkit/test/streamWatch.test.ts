import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigMap } from '@kwatch/models/v1';
import { Watcher } from '@kwatch/watch-core';
import { describe, expect, it } from 'vitest';
import { StreamWatch } from '../src/index.ts';
import { resolveRunOptions, resolveStreamWatchOptions } from '../src/streamWatch.ts';

/** A kubeconfig whose server nobody answers: nothing may be asked of it. */
function nowhere(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u', token: 'x' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

const within = <T>(ms: number, p: Promise<T>): Promise<T | 'still running'> =>
  Promise.race([p, sleep(ms).then(() => 'still running' as const)]);

describe('StreamWatch.run with an already-aborted signal', () => {
  it.each([
    ['plain', {}],
    ['with leader election and a health server', { leaderElection: { namespace: 'default', name: 'x' }, healthcheckPort: 0 }],
  ])('returns at once (%s)', async (_name, extra) => {
    const sw = new StreamWatch(ConfigMap, [], { namespace: 'default', kubeConfig: nowhere() });
    const t0 = Date.now();
    const outcome = await within(2_000, sw.run({ signal: AbortSignal.abort(), ...extra }));
    expect(outcome).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(500);
    expect(sw.healthUrl).toBeUndefined();
  });
});

describe('StreamWatch options: checked at construction, watcher options only where a watcher is made', () => {
  it.each([
    [{ concurrency: 0 }, 'Expected `concurrency` to be a positive integer, got 0'],
    [{ onMarker: 1 }, 'Expected `onMarker` to be a function, got 1'],
    [{ timeoutSeconds: -1 }, 'Expected `timeoutSeconds` to be a positive integer, or 0 or null for no timeout, got -1'],
    [{ concurency: 2 }, 'Unknown option `concurency`'],
  ])('a kind target: %o is an INVALID_OPTION naming it', (options, message) => {
    expect(() => new StreamWatch(ConfigMap, [], { kubeConfig: nowhere(), ...options } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', message }),
    );
  });

  it('a watcher target takes no watcher option but kubeConfig (the lease): the others are refused, not ignored', () => {
    const watcher = new Watcher(ConfigMap, { kubeConfig: nowhere() });
    expect(() => new StreamWatch(watcher, [], { namespace: 'web', labelSelector: 'a=b' } as never)).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTION',
        message:
          'Unknown options `namespace`, `labelSelector` for a StreamWatch of a watcher or multiplexer: give watcher options to the Watcher',
      }),
    );
    expect(() => new StreamWatch([watcher], [], { kubeConfig: nowhere(), concurrency: 1 })).not.toThrow();
  });

  it('splits the options: the dispatcher keeps its own, the watcher gets the rest', () => {
    const kc = nowhere();
    const onMarker = () => {};
    expect(
      resolveStreamWatchOptions<typeof ConfigMap>({ namespace: 'web', kubeConfig: kc, concurrency: 2, onMarker }, 'kind'),
    ).toEqual({
      watcher: { namespace: 'web', kubeConfig: kc },
      dispatcher: { concurrency: 2 },
      onMarker,
      kubeConfig: kc,
    });
  });
});

describe('StreamWatch.run options', () => {
  it.each([
    [{ healthcheckPort: -1 }, 'Expected `healthcheckPort` to be a port number (0 to 65535), got -1'],
    [{ timeoutSeconds: 0 }, 'Expected `timeoutSeconds` to be a positive number of seconds, got 0'],
    [{ leaderElection: { namespace: 'default' } }, 'Expected `leaderElection.name` to be a non-empty string, got undefined'],
    [
      { leaderElection: { namespace: 'default', name: 'x', kubeConfig: nowhere() } },
      'Unknown option `kubeConfig` in `leaderElection`',
    ],
    [
      { timeout: 1, timeoutSeconds: 1 },
      'Expected `timeout` to be left out when `timeoutSeconds` is given (it is its deprecated name), got 1',
    ],
    [{ timeoutMs: 1000 }, 'Unknown option `timeoutMs`'],
  ])('%o rejects with an INVALID_OPTION naming it, before anything starts', async (options, message) => {
    const sw = new StreamWatch(ConfigMap, [], { namespace: 'default', kubeConfig: nowhere() });
    await expect(sw.run(options as never)).rejects.toMatchObject({ code: 'INVALID_OPTION', message });
    expect(sw.healthUrl).toBeUndefined();
  });

  it('timeoutSeconds ends the run; the deprecated `timeout` still does the same', () => {
    expect(resolveRunOptions({ timeoutSeconds: 2 }).timeoutSeconds).toBe(2);
    expect(resolveRunOptions({ timeout: 2 }).timeoutSeconds).toBe(2);
    expect(resolveRunOptions({}).timeoutSeconds).toBeUndefined();
  });

  it.each([['timeoutSeconds'], ['timeout']])('run({ %s: 0.2 }) returns after 0.2 s', async (name) => {
    const sw = new StreamWatch(ConfigMap, [], { namespace: 'default', kubeConfig: nowhere() });
    const t0 = Date.now();
    expect(await within(3_000, sw.run({ [name]: 0.2 }))).toBeUndefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
  });
});
