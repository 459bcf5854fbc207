import { ConfigMap } from '@kwatch/models/v1';
import { tcpConnectionIdsTo } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { Watcher } from '../src/index.ts';
import { Collector, cp, createConfigMaps, freshNamespace } from './helpers.ts';

const port = Number(new URL(cp.server).port);
const WATCHES = 20;

/** Starts one watcher per namespace, waits until all have synced, then counts this process's new connections. */
async function watchAll(http2: boolean) {
  const namespaces = await Promise.all(Array.from({ length: WATCHES }, () => freshNamespace('conn')));
  // Each kubeConfig is a new object loaded from the same file: sharing must not depend on object identity.
  // Counted by socket: connections other tests of this worker left behind may close meanwhile.
  const before = tcpConnectionIdsTo(port);
  const watchers = namespaces.map((namespace) => new Watcher(ConfigMap, { namespace, kubeConfig: cp.kubeConfig, http2 }));
  const collectors = watchers.map((w) => new Collector(w.stream({ markers: true })));
  await Promise.all(collectors.map((c) => c.until((x) => x.lines.includes('SYNCED'))));
  const opened = [...tcpConnectionIdsTo(port)].filter((id) => !before.has(id)).length;
  await Promise.all(namespaces.map((ns) => createConfigMaps(ns, ['hello'])));
  await Promise.all(collectors.map((c) => c.until((x) => x.lines.includes('ADDED hello'))));
  for (const w of watchers) w.stop();
  await Promise.all(collectors.map((c) => c.done));
  for (const c of collectors) expect(c.error).toBeUndefined();
  return opened;
}

describe('connections to the API server', () => {
  it(`over HTTP/2 (the default), ${WATCHES} watchers share one connection and all receive their events`, async () => {
    expect(await watchAll(true)).toBeLessThanOrEqual(1);
  });

  it(`with http2: false, each of ${WATCHES} watches has a connection of its own`, async () => {
    expect(await watchAll(false)).toBeGreaterThanOrEqual(WATCHES);
  });
});
