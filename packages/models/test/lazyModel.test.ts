// The group/version entry points' stand-ins behave as kubernetes-models' classes, and load them only when used.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Deployment } from '@kwatch/models/apps/v1';
import { ConfigMap, Container, Namespace, Pod, PodList, Watchables } from '@kwatch/models/v1';
import { Pod as PodAlone } from '@kwatch/models/v1/Pod';
import { Pod as RealPod } from 'kubernetes-models/v1/Pod';
import { describe, expect, it } from 'vitest';
import { describeKind, isKubernetesKind, isResourceDescriptor, lazyModel, realModel, watchTarget } from '../src/index.ts';

const run = promisify(execFile);

describe('a lazy model', () => {
  it('is the class kubernetes-models exports, by every test a user can make', () => {
    expect(realModel(Pod)).toBe(RealPod);
    expect(PodAlone).toBe(Pod); // both ways in give one value
    const pod = new Pod({ metadata: { name: 'web' } });
    expect(pod).toBeInstanceOf(RealPod);
    expect(pod).toBeInstanceOf(Pod);
    expect(new RealPod({})).toBeInstanceOf(Pod);
    expect(Object.getPrototypeOf(pod)).toBe(RealPod.prototype);
    expect(Pod.prototype).toBe(RealPod.prototype);
    expect(pod.constructor).toBe(RealPod);
    expect(pod.toJSON()).toEqual({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' } });
    expect(Pod.is(pod)).toBe(true);
    expect(Pod.is({ apiVersion: 'v1', kind: 'Service' })).toBe(false);
    expect(typeof Pod).toBe('function');
    expect([Pod.name, Pod.apiVersion, Pod.kind]).toEqual(['Pod', 'v1', 'Pod']);
    expect(Object.keys(Pod)).toEqual(Object.keys(RealPod));
  });

  it('validates as the class does, and a subclass works', () => {
    expect(() => new ConfigMap({ metadata: { name: 'ok' }, data: { a: 'b' } }).validate()).not.toThrow();
    expect(() => new ConfigMap({ data: { a: 1 as unknown as string } }).validate()).toThrow();
    class Labelled extends Pod {
      labelled = true;
    }
    const l = new Labelled({ metadata: { name: 'x' } });
    expect(l).toBeInstanceOf(Pod);
    expect(l).toBeInstanceOf(Labelled);
    expect(l.labelled).toBe(true);
    expect(l.apiVersion).toBe('v1');
  });

  it('a part class (no kind) is lazy too', () => {
    const c = new Container({ name: 'app', image: 'nginx' });
    expect(c.toJSON()).toEqual({ name: 'app', image: 'nginx' });
    expect(c).toBeInstanceOf(Container);
  });

  it('is a kind to the registry, not a descriptor; list classes give their item', () => {
    expect(isKubernetesKind(Pod)).toBe(true);
    expect(isResourceDescriptor(Pod)).toBe(false);
    expect(describeKind(PodList).plural).toBe('pods');
    expect(watchTarget(Namespace).info.namespaced).toBe(false);
    expect(() => watchTarget(Namespace, { namespace: 'web' } as never)).toThrow(/Namespace has no namespaced watcher support/);
    expect(Watchables.Pod).toBe(Pod);
    expect(Deployment.apiVersion).toBe('apps/v1');
  });

  it('names a missing export when used, not before', () => {
    const Missing = lazyModel<new () => object>('kubernetes-models/v1/Pod', 'NoSuchThing', 'v1', 'NoSuchThing');
    expect(Missing.name).toBe('NoSuchThing');
    expect(() => new Missing()).toThrow('kubernetes-models/v1/Pod has no export NoSuchThing');
  });

  it('importing an entry point loads no class until one is used (a fresh process, counting modules)', async () => {
    const script = `
      import { registerHooks } from 'node:module';
      const loaded = [];
      registerHooks({ load(url, context, next) { if (url.includes('/kubernetes-models/')) loaded.push(url); return next(url, context); } });
      const v1 = await import('@kwatch/models/v1');
      await import('@kwatch/models/apps/v1');
      const before = loaded.length;
      const names = [v1.Pod.name, v1.Pod.apiVersion, v1.Pod.kind, Object.keys(v1.Watchables).length];
      const cm = new v1.ConfigMap({});
      console.log(JSON.stringify({ before, names, after: loaded.filter((u) => /ConfigMap/.test(u)).length, cm: cm.kind }));`;
    const { stdout } = await run(process.execPath, ['--conditions=@kwatch/source', '--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '..'),
    });
    const out = JSON.parse(stdout) as { before: number; names: unknown[]; after: number; cm: string };
    expect(out.before).toBe(0);
    expect(out.names.slice(0, 3)).toEqual(['Pod', 'v1', 'Pod']);
    expect(out.names[3]).toBeGreaterThan(20);
    expect(out.after).toBeGreaterThan(0);
    expect(out.cm).toBe('ConfigMap');
  }, 60_000);

  it('decoded objects adopt the kind without loading it; the first use through them loads it (a fresh process)', async () => {
    // Each case its own process, so that nothing else has loaded the class before.
    const probe = async (use: string): Promise<Record<string, unknown>> => {
      const script = `
        import { registerHooks } from 'node:module';
        const loaded = [];
        registerHooks({ load(url, context, next) { if (url.includes('/kubernetes-models/')) loaded.push(url); return next(url, context); } });
        const { ConfigMap } = await import('@kwatch/models/v1');
        const { adoptObject, modelAdopterFor, watchTarget } = await import('./src/index.ts');
        const adopter = await modelAdopterFor(watchTarget(ConfigMap));
        const line = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"n"},"data":{"k":"v"}}';
        const cm = adoptObject(JSON.parse(line), adopter, undefined);
        const cm2 = adoptObject(JSON.parse(line), adopter, undefined);
        const own = [cm.metadata.name, cm.data.k, Object.keys(cm).join(), await (async () => cm)() === cm];
        const before = loaded.length;
        const out = { before, own };
        ${use}
        out.after = loaded.filter((u) => /ConfigMap/.test(u)).length;
        console.log(JSON.stringify(out));`;
      const { stdout } = await run(process.execPath, ['--conditions=@kwatch/source', '--input-type=module', '-e', script], {
        cwd: join(import.meta.dirname, '..'),
      });
      return JSON.parse(stdout) as Record<string, unknown>;
    };
    const cases = await Promise.all([
      probe(`out.is = cm instanceof ConfigMap; out.is2 = cm2 instanceof ConfigMap;`),
      probe(`const { ConfigMap: Real } = await import('kubernetes-models/v1/ConfigMap');
             out.real = cm instanceof Real; out.proto = Real.prototype.isPrototypeOf(cm2); out.ctor = cm.constructor === Real;`),
      probe(`let bad; try { adoptObject(JSON.parse('{"kind":"ConfigMap","apiVersion":"v1","data":{"k":1}}'), adopter, undefined).validate(); } catch (e) { bad = e.name; }
             cm.validate(); out.valid = true; out.bad = bad;`),
      probe(`out.json = JSON.parse(JSON.stringify(cm)); out.str = String(Object.prototype.toString.call(cm));
             out.spread = { ...cm }.metadata.name; const keys = []; for (const k in cm2) keys.push(k); out.forIn = keys.join();
             const late = adoptObject(JSON.parse(line), adopter, undefined);
             out.late = Object.getPrototypeOf(late) === (await import('kubernetes-models/v1/ConfigMap')).ConfigMap.prototype;`),
    ]);
    for (const c of cases) {
      expect(c.before).toBe(0); // adopting and reading own data loaded nothing
      expect(c.own).toEqual(['a', 'v', 'apiVersion,kind,metadata,data', true]);
      expect(c.after).toBeGreaterThan(0); // the use loaded it
    }
    expect([cases[0]?.is, cases[0]?.is2]).toEqual([true, true]);
    expect([cases[1]?.real, cases[1]?.proto, cases[1]?.ctor]).toEqual([true, true, true]);
    expect([cases[2]?.valid, cases[2]?.bad]).toEqual([true, 'Error']);
    expect(cases[3]?.json).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: 'n' },
      data: { k: 'v' },
    });
    expect(cases[3]?.spread).toBe('a');
    expect(cases[3]?.forIn).toBe('apiVersion,kind,metadata,data,validate'); // as for an instance: kubernetes-models assigns validate()
    expect(cases[3]?.late).toBe(true); // adopted after the load: the class's own prototype
  }, 60_000);
});
