// Shared watches, an index, changes with the old object, and resume across restarts.
//   node --conditions=@kwatch/source examples/informers.ts <namespace> <resume-file>
import { ConfigMap } from '@kwatch/models/v1/ConfigMap';
import { fileResume, InformerFactory, Watcher } from '@kwatch/watch-core';

const [namespace = 'default', resumeFile = 'configmaps.rv'] = process.argv.slice(2);
await using informers = new InformerFactory({ graceMs: 1000 });

// Two handles and a stream of (ConfigMap, namespace): one watch request between them.
using byApp = informers.store(ConfigMap, { namespace }).addIndex('byApp', (cm) => [cm.metadata?.labels?.app ?? '']);
using again = informers.store(ConfigMap, { namespace });
await byApp.synced();
console.log(
  'web:',
  byApp
    .byIndex('byApp', 'web')
    .map((cm) => cm.metadata?.name)
    .sort()
    .join(','),
);
console.log(
  'watches:',
  informers.watches().length,
  'holders:',
  informers.watches()[0]?.holders,
  'same store:',
  again.size === byApp.size,
);

// The next change, with the object before and after it.
for await (const c of byApp.events()) {
  if (c.type === 'MODIFIED') {
    console.log(`modified ${c.object.metadata?.name}: ${c.old.data?.v} -> ${c.object.data?.v}`);
    break;
  }
}

// Resume: a watcher that saves what it took; run the example again and it starts where this one stopped.
const watcher = new Watcher(ConfigMap, { namespace });
for await (const e of watcher.stream({ resume: fileResume(resumeFile), markers: true })) {
  if (e.type === 'SYNCED' || e.type === 'RESYNC') console.log(e.type);
  else console.log('resumed:', e.type, e.object.metadata?.name, e.synthetic ? '(synthetic)' : '');
  if (e.type === 'SYNCED' || (e.type !== 'RESYNC' && !e.synthetic)) break;
}
