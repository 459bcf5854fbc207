// Importing @kwatch/watch-core and a watchable, and constructing a Watcher, loads no zod (~15 MB): checked in a child.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

// Every module the child resolves (import and require alike) is recorded by a module.registerHooks resolve hook.
const CHILD = `
import { registerHooks } from 'node:module';
const urls = [];
registerHooks({ resolve: (specifier, context, next) => { const r = next(specifier, context); urls.push(r.url); return r; } });
const zod = () => urls.filter((u) => /\\/zod\\//.test(u)).length;
const { Watcher, Store, InformerFactory, KubeClient, MultiplexingWatcher } = await import('@kwatch/watch-core');
const models = await import(process.argv[1]);
const kind = models.ConfigMap;
const watcher = new Watcher(kind, { namespace: 'x', pageSize: 10, backoff: { maxMs: 1000 }, hooks: { error: () => {} } });
watcher.stream({ markers: true }).return(undefined);
new Store({ transform: (o) => o });
new InformerFactory({ graceMs: 0, watcherOptions: { timeoutSeconds: 60 } });
new KubeClient({ readIdleMs: 1000 });
new MultiplexingWatcher({ watchers: [watcher], bufferSize: 8 });
await import('@kwatch/models');
const before = zod();
let refusal;
try { new Watcher(kind, { pageSize: 0 }); } catch (e) { refusal = e.message; }
console.log(JSON.stringify({ before, modules: urls.length, refusal, after: zod() }));
`;

async function child(models: string): Promise<{ before: number; modules: number; refusal: string; after: number }> {
  const { stdout } = await run(process.execPath, ['--conditions=@kwatch/source', '--input-type=module', '-e', CHILD, models], {
    cwd: join(import.meta.dirname, '..'),
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
}

describe('zod stays off the import path', () => {
  it.each(['@kwatch/models/v1/ConfigMap', '@kwatch/models/v1'])(
    'importing @kwatch/watch-core, @kwatch/models and %s, and constructing with good options, loads no zod',
    async (models) => {
      const r = await child(models);
      expect(r.modules).toBeGreaterThan(20); // the hook saw the imports
      expect(r.before).toBe(0);
      // A refusal is worded by zod, loaded then: the same message as ever.
      expect(r.refusal).toBe('Expected `pageSize` to be a positive integer, got 0');
      expect(r.after).toBeGreaterThan(0);
    },
    30_000,
  );
});
