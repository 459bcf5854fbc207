import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { attachControlPlane, installCRD } from '@kwatch/testenv';
import { describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { gadgetCrd } from '../../toolkit/test/fixtures/gadgetCrd.ts';
import { main } from '../src/index.ts';

const cp = attachControlPlane(inject('kwatchTestenvState'));
const core = cp.kubeConfig.makeApiClient(CoreV1Api);
const bin = join(import.meta.dirname, '../src/bin.ts');
const plugin = join(import.meta.dirname, '../../toolkit/test/fixtures/notify-plugin.mjs');

function kwatch(args: string[], env: Record<string, string | undefined> = {}) {
  const merged: Record<string, string | undefined> = { ...process.env, KUBECONFIG: cp.kubeconfigPath, NO_COLOR: '1', ...env };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  const child = spawn(process.execPath, ['--conditions=@kwatch/source', bin, ...args], {
    env: merged,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

async function until(what: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(25);
  }
}

async function interrupt(child: ChildProcess, exited: Promise<number | null>): Promise<number | null> {
  child.kill('SIGINT');
  return exited;
}

describe('the kwatch CLI against the real control plane', () => {
  it('--output json: one JSON object per line; several kinds; Ctrl-C exits 0; a plugin logs its messages', async () => {
    const ns = `cli-${randomBytes(3).toString('hex')}`;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'before' } } });
    const run = kwatch(['configmaps,secrets', '-n', ns, '--output', 'json', '--plugin', plugin, '--context', 'admin-token']);
    await until(() => run.out.stderr.includes('in sync'));
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 's1' }, stringData: { password: 'hunter2' } } });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'before' });
    await until(() => run.out.stdout.includes('"DELETED"') && run.out.stdout.includes('"s1"'));
    expect(await interrupt(run.child, run.exited)).toBe(0);
    const lines = run.out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; kind: string; name: string; namespace: string });
    // Two kinds come over two connections: order holds within a kind, not across kinds.
    expect(lines.map((l) => `${l.type} ${l.kind} ${l.name}`).sort()).toEqual([
      'ADDED ConfigMap before',
      'ADDED Secret s1',
      'DELETED ConfigMap before',
    ]);
    expect(lines.filter((l) => l.kind === 'ConfigMap').map((l) => l.type)).toEqual(['ADDED', 'DELETED']);
    expect(lines.every((l) => l.namespace === ns)).toBe(true);
    expect(run.out.stderr).toContain('kwatch: ADDED Secret s1');
    expect(run.out.stderr).toContain('kwatch: ConfigMap before is gone');
    expect(run.out.stderr).toContain('kwatch: stopped');
    for (const token of Object.values(cp.state.tokens)) expect(run.out.stdout + run.out.stderr).not.toContain(token);
  });

  it('--health-port serves /healthz and /readyz on 127.0.0.1', async () => {
    const run = kwatch(['namespaces', '--health-port', '0', '--log-level', 'debug']);
    await until(() => /health on (http:\/\/127\.0\.0\.1:\d+)/.test(run.out.stderr) && run.out.stderr.includes('in sync'));
    const url = /health on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.out.stderr)?.[1];
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await interrupt(run.child, run.exited)).toBe(0);
  });

  it('--metrics: Prometheus text at /metrics on the health port, counting the events of the real watch', async () => {
    const ns = `cli-${randomBytes(3).toString('hex')}`;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'm1' } } });
    const run = kwatch(['cm', '-n', ns, '-o', 'name', '--health-port', '0', '--metrics']);
    await until(() => /health on (http:\/\/127\.0\.0\.1:\d+)/.test(run.out.stderr) && run.out.stderr.includes('in sync'));
    expect(run.out.stderr).toContain('metrics on /metrics');
    const url = /health on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.out.stderr)?.[1];
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'm2' } } });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'm1' });
    await until(() => run.out.stdout.split('\n').length > 3);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)`, 'm').exec(text)?.[1]);
    expect(text).toMatch(/^# TYPE kwatch_watch_events_total counter$/m);
    // m1 from the initial state (no controller-manager: no kube-root-ca.crt), then m2 added and m1 deleted live.
    expect(value('kwatch_watch_events_total{kind="ConfigMap",type="ADDED",synthetic="true"}')).toBe(1);
    expect(value('kwatch_watch_events_total{kind="ConfigMap",type="ADDED",synthetic="false"}')).toBe(1);
    expect(value('kwatch_watch_events_total{kind="ConfigMap",type="DELETED",synthetic="false"}')).toBe(1);
    // The lag of m2's creation (a ConfigMap's deletion carries no deletionTimestamp to measure from).
    expect(text).toMatch(/^kwatch_watch_lag_count\{kind="ConfigMap"\} 1$/m);
    expect(value('kwatch_watch_lag_sum{kind="ConfigMap"}')).toBeLessThan(5);
    expect(value('kwatch_watch_last_event_age{kind="ConfigMap"}')).toBeLessThan(60);
    expect(text).not.toContain('namespace=');
    expect(await interrupt(run.child, run.exited)).toBe(0);
    // Without --health-port there is nowhere to serve them.
    expect(await kwatch(['cm', '--metrics']).exited).toBe(2);
  });

  it('--leader-elect: streams only while holding the lease, releases it on Ctrl-C', async () => {
    const lease = `cli-${randomBytes(3).toString('hex')}`;
    const first = kwatch(['namespaces', '-n', 'default', '--leader-elect', lease]);
    await until(() => first.out.stderr.includes(`leading ${lease}`) && first.out.stdout.includes('Namespace'));
    const second = kwatch(['namespaces', '-n', 'default', '--leader-elect', lease]);
    await until(() => second.out.stderr.includes(`waiting for the lease ${lease}`));
    await sleep(1500);
    expect(second.out.stderr).not.toContain(`leading ${lease}`);
    expect(await interrupt(first.child, first.exited)).toBe(0);
    await until(() => second.out.stderr.includes(`leading ${lease}`) && second.out.stdout.includes('Namespace'), 10_000).catch(
      (e) => {
        throw new Error(`${e}: first=${first.out.stderr} second=${second.out.stderr}`);
      },
    );
    expect(await interrupt(second.child, second.exited)).toBe(0);
  });

  it('unknown kinds, missing settings and broken plugins exit with their own codes and a clear message', async () => {
    const unknown = kwatch(['pdos']);
    expect(await unknown.exited).toBe(33);
    expect(unknown.out.stderr).toContain("kwatch: the server has no resource 'pdos' (did you mean pods");
    const nothing = kwatch([]);
    expect(await nothing.exited).toBe(33);
    expect(nothing.out.stderr).toContain('nothing to watch');
    const broken = kwatch(['pods', '--plugin', join(import.meta.dirname, '../../toolkit/test/fixtures/broken-plugin.mjs')]);
    expect(await broken.exited).toBe(34);
    expect(broken.out.stderr).toContain('does not export handleEvent');
    const token = kwatch(['pods'], { K8S_TOKEN: 'secret-token-value-123' });
    expect(await token.exited).toBe(31);
    expect(token.out.stderr).not.toContain('secret-token-value-123');
  });

  it('a watch the user may not make ends with the server message and exit 1', async () => {
    const run = kwatch(['configmaps', '-n', 'default', '--context', 'restricted']);
    expect(await run.exited).toBe(1);
    expect(run.out.stderr).toContain('User "restricted" cannot watch resource "configmaps"');
  });

  it('kinds by discovery: a CRD installed in the cluster by name and short name (no file), short names of built-ins, -o name', async () => {
    const group = `kw${randomBytes(3).toString('hex')}.example.com`;
    const shortName = `gdg${randomBytes(3).toString('hex')}`;
    const crd = await installCRD(cp, gadgetCrd(group, shortName));
    const ns = `cli-${randomBytes(3).toString('hex')}`;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c1' } } });
    await cp.kubeConfig.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      ...crd,
      namespace: ns,
      body: { apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: 'g1' }, spec: { size: 1 } },
    });
    for (const kinds of [`gadgets.${group},cm`, `${shortName},configmap`, `gadget.v1.${group},ConfigMap`]) {
      const run = kwatch([kinds, '-n', ns, '-o', 'name']);
      await until(() => run.out.stderr.includes('in sync')).catch((e) => {
        throw new Error(`${kinds}: ${e} ${run.out.stderr}`);
      });
      await until(() => run.out.stdout.split('\n').length >= 3);
      expect(await interrupt(run.child, run.exited)).toBe(0);
      expect(run.out.stdout.trim().split('\n').sort(), kinds).toEqual([`configmap/c1`, `gadget.${group}/g1`]);
    }
  });

  it('-o yaml: one YAML document per event; -o wide: a table with resourceVersion, age and detail', async () => {
    const ns = `cli-${randomBytes(3).toString('hex')}`;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'y1' }, data: { a: '1', b: '2' } } });
    const yaml = kwatch(['cm', '-n', ns, '-o', 'yaml']);
    await until(() => yaml.out.stdout.includes('name: y1'));
    expect(await interrupt(yaml.child, yaml.exited)).toBe(0);
    const docs = parseAllDocuments(yaml.out.stdout).map((d) => d.toJS() as { kind: string; data: unknown });
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ kind: 'ConfigMap', data: { a: '1', b: '2' } });
    expect(yaml.out.stdout).toContain(`# ADDED ConfigMap ${ns}/y1`);

    const wide = kwatch(['cm', '-n', ns, '-o', 'wide']);
    await until(() => wide.out.stdout.includes('y1'));
    expect(await interrupt(wide.child, wide.exited)).toBe(0);
    const [header, row] = wide.out.stdout.trim().split('\n');
    expect(header).toMatch(/^TIME +EVENT +KIND +NAME +RESOURCE-VERSION +AGE +DETAIL$/);
    expect(row).toMatch(new RegExp(`ADDED +ConfigMap +${ns}/y1 +\\d+ +\\d+s +2 keys$`));
  });

  it('no kubeconfig, a missing or a malformed --kubeconfig: a clear message with exit 36, no raw ENOENT or YAMLException', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kwatch-home-'));
    try {
      const none = kwatch(['pods'], { KUBECONFIG: undefined, HOME: home, KUBERNETES_SERVICE_HOST: undefined });
      expect(await none.exited).toBe(36);
      expect(none.out.stderr).toContain(
        `kwatch: no kubeconfig found: looked at $KUBECONFIG (not set), ${join(home, '.kube', 'config')} (no such file) and the in-cluster service account (KUBERNETES_SERVICE_HOST is not set)`,
      );
      expect(none.out.stderr).not.toContain('HTTP protocol is not allowed');

      const missing = kwatch(['pods', '--kubeconfig', join(home, 'nope.yaml')]);
      expect(await missing.exited).toBe(36);
      expect(missing.out.stderr).toContain(`kwatch: kubeconfig ${join(home, 'nope.yaml')} (--kubeconfig) does not exist`);

      const bad = join(home, 'bad.yaml');
      writeFileSync(bad, 'apiVersion: v1\nclusters: [\n  - name: x\n');
      const malformed = kwatch(['pods', '--kubeconfig', bad]);
      expect(await malformed.exited).toBe(36);
      expect(malformed.out.stderr).toMatch(new RegExp(`kwatch: kubeconfig ${bad} \\(--kubeconfig\\) is not valid YAML`));

      const context = kwatch(['pods', '--context', 'nope']);
      expect(await context.exited).toBe(36);
      expect(context.out.stderr).toContain("context 'nope' is not in the kubeconfig");
      for (const r of [none, missing, malformed, context]) expect(r.out.stderr).not.toMatch(/ENOENT|YAMLException|\n +at /);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('main() in-process takes the kubeconfig from the io env it is given and never writes process.env', async () => {
    const writes: string[] = [];
    const real = process.env;
    process.env = new Proxy(real, {
      set(target, key, value) {
        writes.push(String(key));
        return Reflect.set(target, key, value);
      },
      deleteProperty(target, key) {
        writes.push(`delete ${String(key)}`);
        return Reflect.deleteProperty(target, key);
      },
    });
    const out: string[] = [];
    const err: string[] = [];
    let interrupt = (): void => {};
    const interrupted = new Promise<void>((resolve) => {
      interrupt = resolve;
    });
    try {
      const running = main(['namespaces', '-o', 'name'], {
        out: (l) => out.push(l),
        err: (l) => {
          err.push(l);
          if (l.includes('in sync')) interrupt();
        },
        colour: false,
        env: { KUBECONFIG: cp.kubeconfigPath, HOME: '/nonexistent' },
        interrupted,
      });
      expect(await running).toBe(0);
    } finally {
      process.env = real;
    }
    expect(out).toContain('namespace/default');
    expect(writes).toEqual([]);
  });
});
