/**
 * Watch bodies read by their events, broken on the real control plane: a TCP relay in front of the apiserver cuts the
 * HTTP/2 connection (Node then ends every stream on it as if cleanly, with a reset code) at random moments, while a
 * consumer breaks, restreams at once, stops inside its loop, or reads slowly. After every run: each change delivered
 * once (no (name, resourceVersion) twice over all streams), the consumer's view equals the server's, and the requests
 * (connects) stay within what the streams and cuts explain.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigMap } from '@kwatch/models/v1';
import { startTcpFaultProxy } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { KubeClient, readKubeconfig, Watcher } from '../src/index.ts';
import { core, cp, createConfigMaps, freshNamespace } from './helpers.ts';

function clientVia(server: string): KubeClient {
  const base = readKubeconfig({ path: cp.kubeconfigPath, context: 'admin' });
  return new KubeClient({ kubeConfig: { ...base, cluster: { ...base.cluster, server } } });
}

/** A small deterministic random source (mulberry32), so a failing seed can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('a cut HTTP/2 connection under a watch (real apiserver, TCP relay)', () => {
  // Through TLS, the relay's cut reaches the stream as an error; the other shape of a cut — Node ending the stream as
  // if cleanly with a reset code — is pinned by eventBody.test.ts on a loopback HTTP/2 server.
  it('quitOnTimeout: a cut is a NETWORK_ERROR and a reconnect, not the end of the window', async () => {
    const namespace = await freshNamespace('cut');
    await createConfigMaps(namespace, ['a']);
    const relay = await startTcpFaultProxy(cp);
    const errors: string[] = [];
    let connects = 0;
    const watcher = new Watcher(ConfigMap, {
      namespace,
      transport: clientVia(relay.url),
      timeoutSeconds: 120,
      backoff: { initialMs: 50, maxMs: 200 },
      hooks: { connected: () => (connects += 1), error: (e) => errors.push(e.code) },
    });
    const seen: string[] = [];
    let ended = false;
    const loop = (async () => {
      for await (const e of watcher.stream({ quitOnTimeout: true })) seen.push(`${e.type} ${e.object.metadata?.name}`);
      ended = true;
    })();
    try {
      await until('the initial object', () => seen.includes('ADDED a'));
      expect(relay.cut()).toBe(1);
      await createConfigMaps(namespace, ['b']);
      await until('the change made after the cut', () => seen.includes('ADDED b'));
      expect(ended).toBe(false); // the stream went on: the cut was not the server's timeout
      expect(errors).toEqual(['NETWORK_ERROR']);
      expect(connects).toBe(2); // the first watch, and one after the cut
      expect(seen).toEqual(['ADDED a', 'ADDED b']);
    } finally {
      watcher.stop();
      await loop;
      await relay.stop();
    }
  }, 30_000);

  it.each([1, 2, 3])(
    'seed %i: random cuts under a consumer that breaks, restreams, stops inside the loop and reads slowly',
    async (seed) => {
      const rnd = random(seed);
      const namespace = await freshNamespace('cutmix');
      const names = Array.from({ length: 12 }, (_, i) => `cm-${i}`);
      await createConfigMaps(namespace, names.slice(0, 6));
      const relay = await startTcpFaultProxy(cp);
      let connects = 0;
      const watcher = new Watcher(ConfigMap, {
        namespace,
        transport: clientVia(relay.url),
        backoff: { initialMs: 20, maxMs: 100 },
        hooks: { connected: () => (connects += 1) },
      });
      const delivered = new Set<string>(); // name@resourceVersion, over every stream
      const view = new Map<string, string>(); // name -> resourceVersion the consumer holds
      const twice: string[] = [];
      let streams = 0;
      let cuts = 0;
      let writing = true;
      let synced = false;
      const written: string[] = []; // name@resourceVersion@here of every create and update the server answered
      // The server's history, from the end of the initial sync on (so that no change is folded into a sync): creates,
      // updates and deletes, with cuts in between, while the consumer runs. Every one must reach the consumer.
      const writer = (async () => {
        await until('the initial sync', () => synced);
        for (let i = 0; i < 80; i++) {
          const name = names[Math.floor(rnd() * names.length)] as string;
          const r = rnd();
          try {
            if (r < 0.8) {
              const cm =
                r < 0.5
                  ? await core.patchNamespacedConfigMap({
                      name,
                      namespace,
                      body: [{ op: 'replace', path: '/data', value: { v: String(i) } }],
                    })
                  : await core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { v: String(i) } } });
              written.push(`${name}@${cm.metadata?.resourceVersion}@here`);
            } else await core.deleteNamespacedConfigMap({ name, namespace });
          } catch {
            // 404 / 409: the object was not there, or already was; the history just moves on.
          }
          if (rnd() < 0.2) cuts += relay.cut() > 0 ? 1 : 0;
          await sleep(20 + rnd() * 60);
        }
        writing = false;
      })();
      try {
        // Streams with random consumer actions until the writer is done and the view caught up with the server. Each
        // stream also ends after 1.5 s (its signal), so a caught-up consumer waiting for nothing comes back to check.
        const afterStop: string[] = [];
        for (let round = 0; ; round++) {
          streams += 1;
          const action = writing ? Math.floor(rnd() * 4) : 3; // 0 break, 1 stop inside, 2 slow, 3 read on
          const limit = 1 + Math.floor(rnd() * 6);
          let taken = 0;
          let stopped = false;
          for await (const e of watcher.stream({ markers: true, signal: AbortSignal.timeout(1500) })) {
            if (stopped) afterStop.push(e.type);
            if (e.type === 'SYNCED') synced = true;
            if (e.type === 'SYNCED' || e.type === 'RESYNC') continue;
            const name = e.object.metadata?.name ?? '';
            const rv = e.object.metadata?.resourceVersion ?? '';
            const at = `${name}@${rv}@${e.type === 'DELETED' ? 'gone' : 'here'}`;
            if (delivered.has(at)) twice.push(at);
            delivered.add(at);
            if (e.type === 'DELETED') view.delete(name);
            else view.set(name, rv);
            taken += 1;
            if (action === 0 && taken >= limit) break; // then restream at once
            if (action === 1 && taken >= limit && !stopped) {
              watcher.stop(); // nothing more may come after stop() inside the loop
              stopped = true;
            }
            if (action === 2) await sleep(15); // slow: the body pauses, nothing is lost
          }
          if (!writing && (await matchesServer(namespace, view))) break;
          if (round > 200) throw new Error('the view never caught up with the server');
        }
        expect(afterStop).toEqual([]);
        await writer;
        console.log(`seed ${seed}: ${streams} streams, ${cuts} cuts, ${connects} connects, ${delivered.size} deliveries`);
        expect(twice).toEqual([]);
        expect(written.filter((w) => !delivered.has(w))).toEqual([]); // no change lost
        expect(written.length).toBeGreaterThan(20);
        expect(cuts).toBeGreaterThan(0); // the run did cut connections under the consumer
        // Requests: one watch per stream at least; each cut and each stream may add one; a little slack for a sync
        // retried (a cut during the initial events relists once).
        expect(connects).toBeGreaterThanOrEqual(1);
        expect(connects).toBeLessThanOrEqual(streams + cuts * 2 + 2);
      } finally {
        watcher.stop();
        writing = false;
        await writer.catch(() => {});
        await relay.stop();
      }
    },
    90_000,
  );
});

/** Whether the consumer's view (name → resourceVersion) is exactly the server's objects now. */
async function matchesServer(namespace: string, view: ReadonlyMap<string, string>): Promise<boolean> {
  const list = await core.listNamespacedConfigMap({ namespace });
  const server = new Map(list.items.map((c) => [c.metadata?.name ?? '', c.metadata?.resourceVersion ?? '']));
  if (server.size !== view.size) return false;
  for (const [name, rv] of server) if (view.get(name) !== rv) return false;
  return true;
}
