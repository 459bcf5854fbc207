import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

/** Loads one kind in a fresh Node process and counts the kubernetes-models modules it loaded. */
async function modulesLoadedFor(load: string): Promise<{ modules: number; name: string }> {
  const script = `
    import { registerHooks } from 'node:module';
    let modules = 0;
    registerHooks({ load(url, context, next) { if (url.includes('/kubernetes-models/')) modules++; return next(url, context); } });
    const kind = await (${load})();
    console.log(JSON.stringify({ modules, name: kind.name }));`;
  const { stdout } = await run(process.execPath, ['--conditions=@kwatch/source', '--input-type=module', '-e', script], {
    cwd: join(import.meta.dirname, '..'),
  });
  return JSON.parse(stdout) as { modules: number; name: string };
}

it("names a built-in kind without loading its model; using it loads that kind's modules, not the group/version's", async () => {
  const kinds = JSON.stringify(join(import.meta.dirname, '../src/kinds.ts'));
  const pods = `{ group: '', version: 'v1', apiVersion: 'v1', kind: 'Pod', plural: 'pods', singular: 'pod',
    shortNames: ['po'], namespaced: true, verbs: ['list', 'watch'], preferred: true }`;
  const perKind = await modulesLoadedFor(`async () => (await import(${kinds})).kindFor(${pods})`);
  const barrel = await modulesLoadedFor(`async () => (await import('@kwatch/models/v1')).Pod`);
  const used = await modulesLoadedFor(
    `async () => { const { Pod } = await import('@kwatch/models/v1'); new Pod({}); return Pod; }`,
  );
  const everything = await modulesLoadedFor(`async () => (await import('kubernetes-models/v1')).Pod`);
  expect([perKind.name, barrel.name, used.name, everything.name]).toEqual(['Pod', 'Pod', 'Pod', 'Pod']);
  // Named, not loaded: the stand-in (lazyModel) answers name, apiVersion and kind itself.
  expect(perKind.modules).toBe(0);
  expect(barrel.modules).toBe(0);
  // Pod and the types it references (126 modules) against every class of v1 (449), measured on kubernetes-models 5.1.0.
  expect(used.modules).toBeGreaterThan(0);
  expect(used.modules).toBeLessThan(everything.modules / 2);
}, 60_000);
