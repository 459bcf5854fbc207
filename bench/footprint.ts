/**
 * footprint: what starting kwatch costs a process, beside bare Node and client-node — importing
 * @kwatch/watch-core, printing the first event of one ConfigMap on the real control plane, and
 * `kwatch --help` (with `kubectl --help` for reference). Each measurement is a fresh process
 * running the *packed* packages as a user installs them: every package is `pnpm pack`ed and the
 * tarballs `npm install`ed into a scratch project outside the workspace (scripts/packed.ts, shared
 * with `pnpm test:packed`), where the child script and the installed `kwatch` bin run. Build first
 * with `pnpm -r --filter './packages/*' run build` (the tarballs carry dist/).
 *
 * Per row: `wallMs` from spawn to exit (what a script loop pays), `atMs` inside the process up to
 * the moment measured, `rssMB` the peak RSS at that moment (VmHWM), `maxRssMB` the peak through
 * exit (GNU time), `addedMB` the `rssMB` above bare Node's. Medians of `rounds`, modes alternating.
 *
 * kwatch's first event is measured three ways: with the per-kind model (`@kwatch/models/v1/ConfigMap`), with the
 * group-version barrel (`@kwatch/models/v1`), and with a client-node `KubeConfig` the user loaded
 * (`kc.loadFromDefault()`, then `new Watcher(ConfigMap, { kubeConfig: kc })`). For that last row the user's own cost
 * is a baseline row (client-node imported and the KubeConfig loaded): `kwatchAddedMB` is its `rssMB` above that
 * baseline, what kwatch adds (the issue's "+30 MB" target), `addedMB` still above bare Node.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '@kwatch/testenv';
import { installPacked, ROOT, workspaceVersion } from '../scripts/packed.ts';
import { Writer } from './cluster.ts';
import { median } from './stats.ts';

const CHILD = 'footprint-child.mjs';
const NAMESPACE = 'footprint';

interface Run {
  wallMs: number;
  atMs: number | undefined;
  rssMB: number | undefined;
  maxRssMB: number;
}

async function measure(cmd: string, args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'kwatch-footprint-'));
  const timeFile = join(dir, 'time');
  const start = process.hrtime.bigint();
  const child = spawn('/usr/bin/time', ['-f', '%M', '-o', timeFile, cmd, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const maxRssMB = Math.round(Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop()) / 1024);
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}`);
  const last = out.trim().split('\n').pop() ?? '';
  const reported = last.startsWith('{') ? (JSON.parse(last) as { atMs: number; rssMB: number }) : undefined;
  return { wallMs, atMs: reported?.atMs, rssMB: reported?.rssMB, maxRssMB };
}

export async function runFootprint(o: { rounds?: number; impls?: string[] } = {}): Promise<object[]> {
  const rounds = o.rounds ?? 5;
  if (!existsSync(join(ROOT, 'packages', 'watch-core', 'dist', 'index.js'))) {
    throw new Error("footprint packs the built packages: run pnpm -r --filter './packages/*' run build first");
  }
  const log = (m: string) => process.stderr.write(`[footprint] ${m}\n`);
  const scratch = mkdtempSync(join(tmpdir(), 'kwatch-footprint-packed-'));
  const cp = await startControlPlane({ onProgress: log });
  try {
    // The packages as a user installs them, with client-node beside them for its rows.
    const project = await installPacked({
      scratch,
      name: 'kwatch-footprint',
      dependencies: { '@kubernetes/client-node': workspaceVersion('@kubernetes/client-node') },
      say: log,
    });
    copyFileSync(join(import.meta.dirname, CHILD), join(project, CHILD));
    const cli = join(project, 'node_modules', '@kwatch', 'cli', 'dist', 'bin.js');
    const writer = new Writer(cp, 1);
    await writer.createNamespace(NAMESPACE);
    await writer.createConfigMap(NAMESPACE, 0);
    await writer.close();
    const env = { KUBECONFIG: cp.kubeconfigPath, FOOTPRINT_NAMESPACE: NAMESPACE };
    const node = process.execPath;
    const KUBECONFIG_BASELINE = 'import+KubeConfig.loadFromDefault()';
    const cases: Array<{ impl: string; what: string; cmd: string; args: string[]; baseline?: string }> = [
      { impl: 'node', what: 'bare', cmd: node, args: [CHILD, 'bare'] },
      { impl: 'kwatch', what: 'import', cmd: node, args: [CHILD, 'import-kwatch'] },
      { impl: 'kwatch', what: 'import+v1', cmd: node, args: [CHILD, 'import-kwatch+v1'] },
      { impl: 'client-node', what: 'import', cmd: node, args: [CHILD, 'import-client-node'] },
      { impl: 'client-node', what: KUBECONFIG_BASELINE, cmd: node, args: [CHILD, 'client-node-kubeconfig'] },
      { impl: 'kwatch', what: 'first-event (barrel @kwatch/models/v1)', cmd: node, args: [CHILD, 'first-event-kwatch'] },
      { impl: 'kwatch', what: 'first-event (per-kind model)', cmd: node, args: [CHILD, 'first-event-kwatch-per-kind'] },
      {
        impl: 'kwatch',
        what: 'first-event (client-node KubeConfig, per-kind model)',
        cmd: node,
        args: [CHILD, 'first-event-kwatch-kubeconfig'],
        baseline: KUBECONFIG_BASELINE,
      },
      { impl: 'client-node', what: 'first-event', cmd: node, args: [CHILD, 'first-event-client-node'] },
      { impl: 'kwatch', what: '--help', cmd: node, args: [cli, '--help'] },
    ];
    try {
      const kubectl = execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim();
      if (kubectl) cases.push({ impl: 'kubectl', what: '--help', cmd: kubectl, args: ['--help'] });
    } catch {
      // no kubectl: no reference row
    }
    // bare Node, and the baseline of a chosen row, are always measured.
    const baselines = new Set(cases.filter((c) => !o.impls || o.impls.includes(c.impl)).map((c) => c.baseline));
    const chosen = o.impls ? cases.filter((c) => o.impls?.includes(c.impl) || c.impl === 'node' || baselines.has(c.what)) : cases;
    const runs = new Map<(typeof cases)[number], Run[]>(chosen.map((c) => [c, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? chosen : [...chosen].reverse();
      for (const c of order) runs.get(c)?.push(await measure(c.cmd, c.args, env, project));
      log(`round ${round + 1}/${rounds}`);
    }
    const med = (xs: Array<number | undefined>) => {
      const defined = xs.filter((x): x is number => x !== undefined);
      return defined.length ? Math.round(median(defined)) : undefined;
    };
    const bareRss = med((runs.get(chosen[0] as (typeof cases)[number]) ?? []).map((r) => r.rssMB)) ?? 0;
    const rssOf = (c: (typeof cases)[number] | undefined) => med((c ? (runs.get(c) ?? []) : []).map((r) => r.rssMB));
    return chosen.map((c) => {
      const rs = runs.get(c) ?? [];
      const rssMB = med(rs.map((r) => r.rssMB));
      const baselineMB = c.baseline === undefined ? undefined : rssOf(chosen.find((b) => b.what === c.baseline));
      return {
        scenario: 'footprint',
        from: 'packed tarballs, npm-installed outside the workspace',
        impl: c.impl,
        what: c.what,
        wallMs: med(rs.map((r) => r.wallMs)),
        atMs: med(rs.map((r) => r.atMs)),
        rssMB,
        addedMB: rssMB === undefined ? undefined : rssMB - bareRss,
        ...(c.baseline === undefined
          ? {}
          : {
              baseline: c.baseline,
              baselineRssMB: baselineMB,
              kwatchAddedMB: rssMB === undefined || baselineMB === undefined ? undefined : rssMB - baselineMB,
            }),
        maxRssMB: med(rs.map((r) => r.maxRssMB)),
        wallMsMinMax: [Math.round(Math.min(...rs.map((r) => r.wallMs))), Math.round(Math.max(...rs.map((r) => r.wallMs)))],
        rounds,
      };
    });
  } finally {
    await cp.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}
