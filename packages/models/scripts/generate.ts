/**
 * Regenerates @kwatch/models from a live control plane:
 *   pnpm --filter @kwatch/models generate            # starts the embedded control plane
 *   KUBECONFIG=... pnpm --filter @kwatch/models generate --kubeconfig   # or uses yours
 * Writes src/generated/*, src/gv/**, src/kinds/** and the exports of package.json.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { startControlPlane } from '@kwatch/testenv';
import { generate, probeModelClasses, probeModelExports } from './codegen.ts';
import { discoverResources } from './discover.ts';

/** Discovers and generates against the cluster of `kc`. */
export async function generateFrom(kc: KubeConfig) {
  const version = (await kc.makeApiClient(VersionApi).getCode()).gitVersion;
  const resources = await discoverResources(kc);
  const apiVersions = [...new Set(resources.map((r) => r.apiVersion))];
  const classes = await probeModelClasses(apiVersions);
  return generate(version, resources, classes, await probeModelExports(apiVersions));
}

/** The package root. */
export const packageRoot = join(import.meta.dirname, '..');

async function main(): Promise<void> {
  const useKubeconfig = process.argv.includes('--kubeconfig');
  const cp = useKubeconfig ? undefined : await startControlPlane({ onProgress: (m) => console.error(`generate: ${m}`) });
  try {
    let kc = cp?.kubeConfig;
    if (!kc) {
      kc = new KubeConfig();
      kc.loadFromDefault();
    }
    const out = await generateFrom(kc);
    rmSync(join(packageRoot, 'src/gv'), { recursive: true, force: true });
    rmSync(join(packageRoot, 'src/kinds'), { recursive: true, force: true });
    for (const [file, content] of out.files) {
      mkdirSync(dirname(join(packageRoot, file)), { recursive: true });
      writeFileSync(join(packageRoot, file), content);
    }
    const pkgFile = join(packageRoot, 'package.json');
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as Record<string, unknown>;
    pkg.exports = out.exports;
    writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
    console.error(
      `generate: ${out.files.size} files; served kinds without a kubernetes-models class: ${out.withoutClass.join(', ') || 'none'}`,
    );
  } finally {
    await cp?.stop();
  }
}

if (import.meta.main) await main();
