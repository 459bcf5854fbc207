/**
 * Sync benchmark peer: Node's floor, no library. `node:http2` (one stream, the kubeconfig's client certificate),
 * the WatchList request a Watcher makes (`sendInitialEvents=true`), `split('\n')` and `JSON.parse`; with `hold` as
 * 4th argument it keeps every object in a Map by uid (what a cache must hold at least), otherwise nothing; with
 * `iterate`, what any resumable async-iterator API must do at least: each event handed to the consumer through an
 * async generator (`for await`), and each object's namespace/name, uid and resourceVersion kept (to resume and to
 * diff a relist), not the object. What a Node program cannot go below on this workload; kwatch's targets are judged
 * against it. See protocol.ts.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { args, say, waitForStdinEnd } from './protocol.ts';

const { namespace, objects, updates } = args();
const mode = process.argv[5];
const hold = mode === 'hold';
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
type Event = {
  type: string;
  object: {
    metadata: { uid: string; name: string; namespace: string; resourceVersion: string; annotations?: Record<string, string> };
  };
};
/** The events of one chunk, one at a time: to a callback, or (`iterate`) through an async generator. */
async function* events(): AsyncGenerator<Event> {
  const queue: Event[][] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  let failure: Error | undefined;
  stream.on('error', (err: Error) => {
    failure = err;
    wake?.();
  });
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    queue.push(lines.filter((l) => l).map((l) => JSON.parse(l)));
    wake?.();
  });
  stream.on('end', () => {
    ended = true;
    wake?.();
  });
  for (;;) {
    const batch = queue.shift();
    if (batch) yield* batch;
    else if (failure) throw failure;
    else if (ended) return;
    else await new Promise<void>((resolve) => (wake = resolve));
  }
}
/** Handles one event; true once the updates are all seen. */
function handle(e: Event): boolean {
  if (e.type === 'BOOKMARK') {
    if (!synced && e.object.metadata?.annotations?.['k8s.io/initial-events-end'] === 'true') {
      synced = true;
      say(`synced ${hold ? held.size : listed}`);
    }
    return false;
  }
  const m = e.object.metadata;
  if (hold) held.set(m.uid, e.object);
  else if (mode === 'iterate') held.set(`${m.namespace}/${m.name}`, `${m.resourceVersion}/${m.uid}`);
  if (e.type === 'ADDED') listed += 1;
  else if (e.type === 'MODIFIED' && ++modified === updates) return true;
  return false;
}
if (mode === 'iterate') {
  for await (const e of events()) if (handle(e)) break;
  stream.close();
} else {
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (line && handle(JSON.parse(line))) {
          stream.close();
          resolve();
          return;
        }
      }
    });
  });
}
if (listed !== objects) console.error(`expected ${objects} objects, got ${listed}`);
say(`done ${modified} ${modified}`);
session.close();
await waitForStdinEnd();
