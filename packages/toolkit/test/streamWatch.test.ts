import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigMap } from '@kwatch/models/v1';
import { describe, expect, it } from 'vitest';
import { StreamWatch } from '../src/index.ts';

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
