import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigMap } from '@kwatch/models/v1';
import { expect, it } from 'vitest';
import type { StreamBody, WatchTransport } from '../src/client/transport.ts';
import { Watcher } from '../src/index.ts';

it('reads the body only as fast as the consumer pulls: a paused consumer pauses the reading', async () => {
  let pulled = 0;
  const chunk = (i: number) =>
    Buffer.from(
      `${JSON.stringify({ type: 'ADDED', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm${i}`, resourceVersion: String(i + 10) } } })}\n`,
    );
  const transport: WatchTransport = {
    getJson: async () => ({}),
    openStream: async (): Promise<StreamBody> => ({
      close: () => {},
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < 100_000; i++) {
          pulled += 1;
          yield chunk(i);
        }
      },
    }),
  };
  const watcher = new Watcher(ConfigMap, { transport, resourceVersion: '1' });
  const stream = watcher.stream();
  const first = await stream.next();
  expect(first.value?.object.metadata?.name).toBe('cm0');
  await sleep(200); // the consumer is busy elsewhere
  expect(pulled).toBe(1);
  for (let i = 1; i < 50; i++) await stream.next();
  expect(pulled).toBe(50);
  await stream.return(undefined);
});
