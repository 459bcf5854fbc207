/**
 * store-memory: heap bytes per object kept by a Store, for realistic ~2.6 KB Pods and ~1.5 KB
 * ConfigMaps, as decoded by kwatch, with and without dropping managedFields — beside client-go's
 * informer store (typed Go structs in a cache.Store; Go heap after GC), fed the same events.
 */
import { spawn } from 'node:child_process';
import { adoptObject } from '@kwatch/models';
import { ConfigMap } from '@kwatch/models/v1/ConfigMap';
import { Pod } from '@kwatch/models/v1/Pod';
import { dropManagedFields, parseWatchLine, Store, WatchEvent } from '@kwatch/watch-core';
import { configData } from './cluster.ts';
import { podEvent } from './fixtures.ts';
import { buildPeer, peerCommand } from './peers/build.ts';

/** A ConfigMap as the sync scenario writes them (~1 KB of data), with the metadata the server adds. */
function configMapEvent(i: number): string {
  return JSON.stringify({
    type: 'ADDED',
    object: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: `cm-${i}`,
        namespace: 'bench',
        uid: `6f1c2d3e-${(i % 65536).toString(16).padStart(4, '0')}-4a5b-8c7d-9e0f1a2b3c4d`,
        resourceVersion: String(200000 + i),
        creationTimestamp: '2026-11-22T03:00:00Z',
        labels: { app: `app-${i % 10}` },
        managedFields: [
          {
            manager: 'bench',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2026-11-22T03:00:00Z',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:data': { '.': {}, 'f:app.properties': {}, 'f:version': {} },
              'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
            },
          },
        ],
      },
      data: configData(i, 0),
    },
  });
}

const KINDS = { pod: { cls: Pod, event: podEvent }, configmap: { cls: ConfigMap, event: configMapEvent } } as const;
type KindName = keyof typeof KINDS;

function heap(): number {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}

function fill(kind: KindName, objects: number, drop: boolean): { bytes: number } {
  const { cls, event } = KINDS[kind];
  const transform = drop ? dropManagedFields : undefined;
  const before = heap();
  let store: Store<object> | undefined = new Store<object>(transform ? { transform } : {});
  for (let i = 0; i < objects; i++) {
    const object = adoptObject<object>(parseWatchLine(event(i)).object, cls as never, undefined);
    store.apply(new WatchEvent('ADDED', object));
  }
  const after = heap();
  if (store.size !== objects) throw new Error('store lost objects');
  store = undefined;
  return { bytes: after - before };
}

/** client-go's informer store fed the same events, in the client-go peer (Go heap after GC). */
async function clientGo(kind: KindName, objects: number, drop: boolean): Promise<number> {
  const [cmd, lead] = peerCommand('client-go');
  const child = spawn(cmd, [...lead, 'store-memory', kind, String(drop)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const { event } = KINDS[kind];
  for (let i = 0; i < objects; i++) {
    if (!child.stdin.write(`${event(i)}\n`)) await new Promise((r) => child.stdin.once('drain', r));
  }
  child.stdin.end();
  if ((await exited) !== 0) throw new Error(`client-go store-memory exited with an error: ${out}`);
  return (JSON.parse(out.trim()) as { bytesPerObject: number }).bytesPerObject;
}

export async function runStoreMemory(options: { objects?: number; impls?: readonly string[] } = {}): Promise<object[]> {
  if (!globalThis.gc) throw new Error('run with node --expose-gc (pnpm bench does)');
  const objects = options.objects ?? 10_000;
  const impls = options.impls ?? ['kwatch', 'client-go'];
  if (impls.includes('client-go')) await buildPeer('client-go');
  const rows: object[] = [];
  for (const kind of Object.keys(KINDS) as KindName[]) {
    for (const drop of [false, true]) {
      const what = drop ? 'dropManagedFields' : 'as received';
      if (impls.includes('kwatch')) {
        fill(kind, 1000, drop); // warm-up
        const { bytes } = fill(kind, objects, drop);
        rows.push({
          scenario: 'store-memory',
          impl: 'kwatch',
          kind,
          what,
          objects,
          bytesPerObject: Math.round(bytes / objects),
        });
      }
      if (impls.includes('client-go')) {
        rows.push({
          scenario: 'store-memory',
          impl: 'client-go',
          kind,
          what,
          objects,
          bytesPerObject: await clientGo(kind, objects, drop),
        });
      }
    }
  }
  return rows;
}
