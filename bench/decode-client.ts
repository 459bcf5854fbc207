/**
 * One client of the decode benchmark, in a process of its own:
 *   node bench/decode-client.ts <kwatch|kwatch-client-node-kc|client-node|raw> <port> <events> [consumerDelayEvery]
 * Prints {events, ms, cpuMs, peakRssMB}.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { Pod } from '@kwatch/models/v1';
import { KubeClient, readKubeconfig, Watcher } from '@kwatch/watch-core';

const [impl, port, expectedArg, slowArg] = process.argv.slice(2);
const expected = Number(expectedArg);
const slowEvery = Number(slowArg ?? 0); // sleep 1 ms every N events: a slow consumer
const url = `http://127.0.0.1:${port}`;
const kc = new KubeConfig();
kc.loadFromOptions({
  // The bench server speaks plain HTTP on loopback; client-node insists this be said explicitly.
  clusters: [{ name: 'bench', server: url, skipTLSVerify: true }],
  users: [{ name: 'bench' }],
  contexts: [{ name: 'bench', cluster: 'bench', user: 'bench' }],
  currentContext: 'bench',
});

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let count = 0;
let names = 0;

async function consume(name: string | undefined): Promise<void> {
  count += 1;
  if (name) names += 1;
  if (slowEvery > 0 && count % slowEvery === 0) await sleep(1);
}

if (impl === 'kwatch' || impl === 'kwatch-client-node-kc') {
  // `kwatch`: kwatch's own kubeconfig and connections (what a Watcher uses by default); the other: a
  // client-node KubeConfig passed in (client-node's authentication, undici connections).
  const dir = mkdtempSync(join(tmpdir(), 'kwatch-decode-'));
  const path = join(dir, 'kubeconfig');
  writeFileSync(
    path,
    JSON.stringify({
      clusters: [{ name: 'bench', cluster: { server: url } }],
      users: [{ name: 'bench', user: {} }],
      contexts: [{ name: 'bench', context: { cluster: 'bench', user: 'bench' } }],
      'current-context': 'bench',
    }),
  );
  const source = impl === 'kwatch' ? { transport: new KubeClient({ kubeConfig: readKubeconfig({ path }) }) } : { kubeConfig: kc };
  const watcher = new Watcher(Pod, { ...source, resourceVersion: '1', watchList: false });
  for await (const e of watcher.stream({ manageResourceVersion: false, quitOnTimeout: true }))
    await consume(e.object.metadata?.name);
} else if (impl === 'client-node') {
  await new Promise<void>((resolve, reject) => {
    void new Watch(kc).watch(
      '/api/v1/pods',
      {},
      (_type, obj: { metadata?: { name?: string } }) => void consume(obj.metadata?.name),
      (err) => (err ? reject(err) : resolve()),
    );
  });
} else {
  await new Promise<void>((resolve, reject) => {
    get(`${url}/api/v1/pods?watch=true`, async (res) => {
      let rest = '';
      for await (const chunk of res) {
        const parts = (rest + chunk.toString('utf8')).split('\n');
        rest = parts.pop() ?? '';
        for (const line of parts)
          if (line) await consume((JSON.parse(line) as { object: { metadata: { name: string } } }).object.metadata.name);
      }
      resolve();
    }).on('error', reject);
  });
}
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
if (count !== expected || names !== expected) {
  console.error(`${impl}: got ${count} events (${names} named), expected ${expected}`);
  process.exit(1);
}
console.log(
  JSON.stringify({
    events: count,
    ms: Math.round(ms),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    peakRssMB: Math.round(peakRss / 2 ** 20),
  }),
);
