import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigMap } from '@kwatch/models/v1';
import { expect, it } from 'vitest';
import { ApiError, Store, Watcher } from '../src/index.ts';
import { cp, freshNamespace } from './helpers.ts';

it('Store.ready() rejects with the stream error when its watch is refused with 403 (user restricted)', async () => {
  const namespace = await freshNamespace('ready');
  const watcher = new Watcher(ConfigMap, { namespace, kubeConfig: cp.kubeConfigFor('restricted') });
  const store = new Store<ConfigMap>();
  const feeding = store.consume(watcher.stream({ markers: true })).catch((e: unknown) => e);
  const waiting = store.ready().then(
    () => 'ready',
    (e: unknown) => e,
  );
  const outcome = await Promise.race([waiting, sleep(15_000).then(() => 'never settled')]);
  watcher.stop();
  expect(outcome).toBeInstanceOf(ApiError);
  expect((outcome as ApiError).httpStatus).toBe(403);
  expect(await feeding).toBe(outcome); // consume() rethrows the same error
  await expect(store.ready()).rejects.toBe(outcome); // and later callers learn it too
});
