/**
 * Sync benchmark peer: Node's floor, no library. `node:http2` (one stream, the kubeconfig's client certificate),
 * the WatchList request a Watcher makes (`sendInitialEvents=true`), `split('\n')` and `JSON.parse`; with `hold` as
 * 4th argument it keeps every object in a Map by uid (what a cache must hold at least), otherwise nothing. What a
 * Node program cannot go below on this workload; kwatch's targets are judged against it. See protocol.ts.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { args, say, waitForStdinEnd } from './protocol.ts';

const { namespace, objects, updates } = args();
const hold = process.argv[5] === 'hold';
const kc = JSON.parse(readFileSync(process.env.KUBECONFIG ?? '', 'utf8'));
const context = kc.contexts.find((c: { name: string }) => c.name === kc['current-context']).context;
const cluster = kc.clusters.find((c: { name: string }) => c.name === context.cluster).cluster;
const user = kc.users.find((u: { name: string }) => u.name === context.user).user;
const b64 = (s: string) => Buffer.from(s, 'base64');
const session = connect(cluster.server, {
  ca: b64(cluster['certificate-authority-data']),
  cert: b64(user['client-certificate-data']),
  key: b64(user['client-key-data']),
});
say('ready');
const query = 'watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true';
const stream = session.request({ ':path': `/api/v1/namespaces/${namespace}/configmaps?${query}` });
stream.setEncoding('utf8');
const held = new Map<string, unknown>();
let listed = 0;
let modified = 0;
let synced = false;
let rest = '';
await new Promise<void>((resolve, reject) => {
  stream.on('error', reject);
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (!line) continue;
      const e = JSON.parse(line);
      if (e.type === 'BOOKMARK') {
        if (!synced && e.object.metadata?.annotations?.['k8s.io/initial-events-end'] === 'true') {
          synced = true;
          say(`synced ${hold ? held.size : listed}`);
        }
        continue;
      }
      if (hold) held.set(e.object.metadata.uid, e.object);
      if (e.type === 'ADDED') listed += 1;
      else if (e.type === 'MODIFIED' && ++modified === updates) {
        stream.close();
        resolve();
        return;
      }
    }
  });
});
if (listed !== objects) console.error(`expected ${objects} objects, got ${listed}`);
say(`done ${modified} ${modified}`);
session.close();
await waitForStdinEnd();
