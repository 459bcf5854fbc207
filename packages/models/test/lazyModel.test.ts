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
});
