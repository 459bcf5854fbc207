// The packages as users get them: builds and packs every package, `npm install`s the tarballs into a scratch project
// outside the workspace (no workspace links, no source condition), type-checks a small consumer with tsc (strict,
// NodeNext) against the packed declarations, and runs it from the packed dist/ against a real control plane with
// Node 22 (npm's `node@22` package, cached) and Node 24 (this toolchain's). Exit 0 only if all of it holds.
//   node --conditions=@kwatch/source scripts/packedConsumer.ts [--no-build] [--keep]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { cacheDir, startControlPlane } from '@kwatch/testenv';
import { installPacked, sh, workspaceVersion } from './packed.ts';

const NODE22 = '22';
const args = new Set(process.argv.slice(2));
const started = Date.now();
const say = (m: string): void => {
  process.stderr.write(`packed [${Math.round((Date.now() - started) / 1000)}s]: ${m}\n`);
};

/** The consumer: what a user writes first, with the package names and subpaths a user imports. */
const CONSUMER = `import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { type Culled, MultiplexingWatcher, Store, Watcher, isKwatchError } from '@kwatch/watch-core';
import { ConfigMap } from '@kwatch/models/v1';
import { defineResource, type KubernetesObject } from '@kwatch/models';
import { EventListener, type ListenerContext, StreamWatch, resolveResourceName } from '@kwatch/toolkit';
import { jsonLine } from '@kwatch/cli';
import { KUBERNETES_VERSION } from '@kwatch/testenv';

const [kubeconfigPath, namespace, name] = process.argv.slice(2) as [string, string, string];
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(kubeconfigPath);

// Types as a user sees them: a ConfigMap's data, a custom resource's untyped objects, listener contexts.
const watcher = new Watcher(ConfigMap, { namespace, kubeConfig });
const CronTab = defineResource({ group: 'stable.example.com', version: 'v1', kind: 'CronTab', plural: 'crontabs', namespaced: true });
const cronTabs: Watcher<typeof CronTab> = new Watcher(CronTab, { kubeConfig });
void cronTabs;
const untyped: KubernetesObject = { metadata: { name: 'x' } };
class Names extends EventListener<ConfigMap> {
  override create(cm: ConfigMap, ctx: ListenerContext<ConfigMap>): void {
    console.log('listener', cm.metadata?.name, ctx.event.type);
  }
}
const sw: StreamWatch<typeof ConfigMap> = new StreamWatch(ConfigMap, [new Names()], { namespace, kubeConfig });
const culled: readonly Culled[] = new MultiplexingWatcher().culled;
const store = new Store<ConfigMap>();
void [sw, culled, untyped, resolveResourceName, jsonLine, KUBERNETES_VERSION, isKwatchError, readFileSync];

const feeding = store.consume(watcher.stream({ markers: true }));
await store.ready();
const found = store.get(namespace, name);
const data: Record<string, string> | undefined = found?.data;
watcher.stop();
await feeding;
console.log(JSON.stringify({ node: process.version, name: found?.metadata?.name, data, isModel: found instanceof ConfigMap }));
`;

async function node22(): Promise<string> {
  const dir = join(cacheDir(), `node${NODE22}`);
  const bin = join(dir, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(bin)) {
    say(`installing Node ${NODE22} from the npm registry (node@${NODE22}) into ${dir}`);
    mkdirSync(dir, { recursive: true });
    await sh('npm', ['install', '--no-audit', '--no-fund', '--prefix', dir, `node@${NODE22}`], dir);
  }
  const version = (await sh(bin, ['--version'], dir)).trim();
  if (!version.startsWith(`v${NODE22}.`)) throw new Error(`expected Node ${NODE22}, ${bin} is ${version}`);
  return bin;
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'kwatch-packed-'));
  const cp = await startControlPlane({ onProgress: (m) => say(`testenv: ${m}`) });
  try {
    const project = await installPacked({
      scratch,
      name: 'kwatch-consumer',
      build: !args.has('--no-build'),
      dependencies: { '@kubernetes/client-node': workspaceVersion('@kubernetes/client-node') },
      devDependencies: { typescript: workspaceVersion('typescript'), '@types/node': workspaceVersion('@types/node') },
      say,
    });
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          // Third-party declarations do not all pass exactOptionalPropertyTypes (kubernetes-models) or ship their
          // types (isomorphic-ws under client-node); kwatch's own are checked where the consumer uses them.
          skipLibCheck: true,
          types: ['node'],
          outDir: 'out',
        },
        include: ['consumer.ts'],
      }),
    );
    writeFileSync(join(project, 'consumer.ts'), CONSUMER);
    say('tsc (strict, NodeNext) on the consumer, against the packed declarations');
    await sh(join(project, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], project);

    const namespace = `packed-${randomBytes(3).toString('hex')}`;
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'packed' }, data: { from: 'tarball' } } });
    for (const nodeBin of [process.execPath, await node22()]) {
      const out = await sh(nodeBin, ['out/consumer.js', cp.kubeconfigPath, namespace, 'packed'], project);
      const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
        node: string;
        name?: string;
        data?: unknown;
        isModel?: boolean;
      };
      if (result.name !== 'packed' || JSON.stringify(result.data) !== '{"from":"tarball"}' || result.isModel !== true) {
        throw new Error(`the consumer on ${nodeBin} saw ${out}`);
      }
      say(`watch from the packed dist/ on Node ${result.node}: ok`);
      const cli = await runCli(nodeBin, project, cp.kubeconfigPath, namespace);
      say(`kwatch bin from the packed @kwatch/cli on Node ${result.node}: ${cli}`);
    }
    say('all passed');
  } finally {
    await cp.stop();
    if (args.has('--keep')) say(`kept ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
}

/** Runs the installed `kwatch` bin until it prints the ConfigMap, then stops it with SIGINT (exit 0 expected). */
function runCli(nodeBin: string, project: string, kubeconfig: string, namespace: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const bin = join(project, 'node_modules', '@kwatch', 'cli', 'dist', 'bin.js');
    const child = spawn(nodeBin, [bin, 'cm', '-n', namespace, '-o', 'name', '--kubeconfig', kubeconfig], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kwatch printed nothing in 30 s: ${out} ${err}`));
    }, 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('configmap/packed')) child.kill('SIGINT');
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0 && out.includes('configmap/packed')) resolve(out.trim());
      else reject(new Error(`kwatch exited ${code}: ${out} ${err}`));
    });
  });
}

await main();
