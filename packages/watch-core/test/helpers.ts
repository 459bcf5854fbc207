import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { attachControlPlane, tcpConnectionIdsTo } from '@kwatch/testenv';
import { inject } from 'vitest';
import { isMarker, type WatchEvent, type Watcher, type WatchMarker } from '../src/index.ts';

export const cp = attachControlPlane(inject('kwatchTestenvState'));
export const core = cp.kubeConfig.makeApiClient(CoreV1Api);

export async function freshNamespace(prefix = 'kw'): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

export async function createConfigMaps(namespace: string, names: string[], data: Record<string, string> = { v: '1' }) {
  const rvs: Record<string, string> = {};
  for (const name of names) {
    const cm = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data } });
    rvs[name] = cm.metadata?.resourceVersion ?? '';
  }
  return rvs;
}

type Any = WatchEvent<any> | WatchMarker;

/** Consumes a stream in the background, keeping everything it yields and how it ended. */
export class Collector<E extends Any = Any> {
  readonly items: E[] = [];
  error: unknown;
  ended = false;
  readonly done: Promise<void>;

  constructor(stream: AsyncIterable<E>) {
    this.done = (async () => {
      try {
        for await (const e of stream) this.items.push(e);
      } catch (err) {
        this.error = err;
      } finally {
        this.ended = true;
      }
    })();
  }

  /** Object events as `TYPE name`. */
  get lines(): string[] {
    return this.items.map((e) => (isMarker(e) ? e.type : `${e.type} ${e.object?.metadata?.name}`));
  }

  async until(predicate: (c: this) => boolean, ms = 20_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate(this)) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.lines)} error=${String(this.error)}`);
      if (this.ended && !predicate(this))
        throw new Error(`stream ended before ${what}; got ${JSON.stringify(this.lines)} error=${String(this.error)}`);
      await sleep(20);
    }
  }

  count(line: string): number {
    return this.lines.filter((l) => l === line).length;
  }
}

/**
 * Starts one watcher per fresh namespace (`make`), waits until all have synced, and returns how many
 * connections to the apiserver this process opened meanwhile — counted by socket, so that connections
 * other tests of this worker left behind may close meanwhile; then checks every watcher gets an event.
 */
export async function connectionsOpenedBy(count: number, make: (namespace: string) => Watcher<any, any>): Promise<number> {
  const port = Number(new URL(cp.server).port);
  const namespaces = await Promise.all(Array.from({ length: count }, () => freshNamespace('conn')));
  const before = tcpConnectionIdsTo(port);
  const watchers = namespaces.map(make);
  const collectors = watchers.map((w) => new Collector(w.stream({ markers: true })));
  await Promise.all(collectors.map((c) => c.until((x) => x.lines.includes('SYNCED'))));
  const opened = [...tcpConnectionIdsTo(port)].filter((id) => !before.has(id)).length;
  await Promise.all(namespaces.map((ns) => createConfigMaps(ns, ['hello'])));
  await Promise.all(collectors.map((c) => c.until((x) => x.lines.includes('ADDED hello'))));
  for (const w of watchers) w.stop();
  await Promise.all(collectors.map((c) => c.done));
  for (const c of collectors) if (c.error) throw c.error;
  return opened;
}
