// One footprint measurement in a fresh process (plain JavaScript: no type stripping to pay for).
// bench/footprint.ts copies it into a scratch project with the packed tarballs npm-installed, and runs it there
// without --conditions, so @kwatch/* resolve to the installed packages' dist/ as in a user's project.
// Prints one JSON line { atMs, rssMB } at the moment measured (atMs: since the process started), then exits.
import { readFileSync } from 'node:fs';

const mode = process.argv[2];

function report() {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  const atMs = performance.now(); // performance.timeOrigin is the process start
  process.stdout.write(`${JSON.stringify({ atMs, rssMB: Math.round(Number(m?.[1]) / 1024) })}\n`);
  process.exit(0);
}

/**
 * The first event of the one ConfigMap in FOOTPRINT_NAMESPACE, with kwatch's Watcher: credentials from the default
 * kubeconfig as kwatch reads it, or (`kubeConfig`) from a client-node KubeConfig the user loaded, as its users do.
 */
async function kwatchFirstEvent(perKind, kubeConfig) {
  const [{ Watcher }, { ConfigMap }] = await Promise.all([
    import('@kwatch/watch-core'),
    // The kind's own module, or the group-version barrel (every v1 kind).
    perKind ? import('@kwatch/models/v1/ConfigMap') : import('@kwatch/models/v1'),
  ]);
  const watcher = new Watcher(ConfigMap, { namespace: process.env.FOOTPRINT_NAMESPACE, kubeConfig });
  for await (const we of watcher.stream()) {
    if (!we.object.metadata?.name) throw new Error('no name');
    report();
  }
}

/** What a client-node user has before kwatch: client-node imported and the default KubeConfig loaded. */
async function clientNodeKubeConfig() {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/** The same with client-node's informer (list, then watch), as its README shows. */
async function clientNodeFirstEvent() {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const api = kc.makeApiClient(k8s.CoreV1Api);
  const namespace = process.env.FOOTPRINT_NAMESPACE;
  const path = `/api/v1/namespaces/${namespace}/configmaps`;
  const informer = k8s.makeInformer(kc, path, () => api.listNamespacedConfigMap({ namespace }));
  informer.on('add', (cm) => {
    if (!cm.metadata?.name) throw new Error('no name');
    report();
  });
  await informer.start();
}

switch (mode) {
  case 'bare':
    report();
    break;
  case 'import-kwatch':
    await import('@kwatch/watch-core');
    report();
    break;
  case 'import-kwatch+v1':
    await Promise.all([import('@kwatch/watch-core'), import('@kwatch/models/v1')]);
    report();
    break;
  case 'import-client-node':
    await import('@kubernetes/client-node');
    report();
    break;
  case 'first-event-kwatch':
    await kwatchFirstEvent(false);
    break;
  case 'first-event-kwatch-per-kind':
    await kwatchFirstEvent(true);
    break;
  case 'client-node-kubeconfig':
    await clientNodeKubeConfig();
    report();
    break;
  case 'first-event-kwatch-kubeconfig':
    await kwatchFirstEvent(true, await clientNodeKubeConfig());
    break;
  case 'first-event-client-node':
    await clientNodeFirstEvent();
    break;
  default:
    throw new Error(`unknown mode ${mode}`);
}
