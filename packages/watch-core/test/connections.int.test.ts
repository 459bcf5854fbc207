import { ConfigMap } from '@kwatch/models/v1';
import { describe, expect, it } from 'vitest';
import { Watcher } from '../src/index.ts';
import { connectionsOpenedBy, cp } from './helpers.ts';

const WATCHES = 20;
// Each kubeConfig is a new object loaded from the same file: sharing must not depend on object identity.
const watchAll = (http2: boolean) =>
  connectionsOpenedBy(WATCHES, (namespace) => new Watcher(ConfigMap, { namespace, kubeConfig: cp.kubeConfig, http2 }));

describe('connections to the API server', () => {
  it(`over HTTP/2 (the default), ${WATCHES} watchers share one connection and all receive their events`, async () => {
    expect(await watchAll(true)).toBeLessThanOrEqual(1);
  });

  it(`with http2: false, each of ${WATCHES} watches has a connection of its own`, async () => {
    expect(await watchAll(false)).toBeGreaterThanOrEqual(WATCHES);
  });
});
