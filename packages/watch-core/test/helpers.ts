import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { attachControlPlane } from '@kwatch/testenv';
import { inject } from 'vitest';
import { isMarker, type WatchEvent, type WatchMarker } from '../src/index.ts';

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
