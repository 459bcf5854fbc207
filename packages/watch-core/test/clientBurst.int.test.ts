// KubeClient.request under a burst on one HTTP/2 connection: every response that arrived whole is returned, none
// reported as ERR_STREAM_PREMATURE_CLOSE (which async iteration of an HTTP/2 stream threw for ~3 in 1,000 POSTs).
import { describe, expect, it } from 'vitest';
import { KubeClient, readKubeconfig } from '../src/index.ts';
import { cp, freshNamespace } from './helpers.ts';

describe('KubeClient under a burst', () => {
  it('2,000 POSTs, 16 in flight: every one returns its object', async () => {
    const namespace = await freshNamespace('burst');
    const client = new KubeClient({ kubeConfig: readKubeconfig({ path: cp.kubeconfigPath }) });
    const failures: string[] = [];
    const names: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < 2000) {
          const name = `cm-${next++}`;
          try {
            const cm = await client.request<{ metadata: { name: string } }>({
              method: 'POST',
              path: `/api/v1/namespaces/${namespace}/configmaps`,
              body: { metadata: { name }, data: { v: '0' } },
              signal: AbortSignal.timeout(30_000),
            });
            names.push(cm.metadata.name);
          } catch (err) {
            failures.push(`${name}: ${(err as Error).message}`);
          }
        }
      }),
    );
    expect(failures).toEqual([]);
    expect(names.length).toBe(2000);
  }, 120_000);
});
