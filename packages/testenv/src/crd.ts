// Installs a CustomResourceDefinition on a control plane and waits until its resource is served.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiextensionsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { ControlPlane } from './controlPlane.ts';
import { TestenvError } from './errors.ts';

/** Where an installed CRD's resource is served. */
export interface InstalledCrd {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

/**
 * Installs an apiextensions.k8s.io/v1 CRD (YAML text; already installed is fine) and resolves
 * once the apiserver serves its storage version, so objects can be created at once.
 *
 * @example
 * ```ts
 * const { group, version, plural } = await installCRD(cp, readFileSync('crontab-crd.yaml', 'utf8'));
 * ```
 */
export async function installCRD(cp: ControlPlane, yaml: string, timeoutMs = 20_000): Promise<InstalledCrd> {
  const body = parse(yaml) as {
    spec: { group: string; names: { plural: string }; versions: Array<{ name: string; storage: boolean }> };
  };
  await cp.kubeConfig
    .makeApiClient(ApiextensionsV1Api)
    .createCustomResourceDefinition({ body: body as never })
    .catch((e: { code?: number }) => {
      if (e.code !== 409) throw e;
    });
  const installed = {
    group: body.spec.group,
    version: body.spec.versions.find((v) => v.storage)?.name ?? body.spec.versions[0]?.name ?? '',
    plural: body.spec.names.plural,
  };
  const objects = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const served = await objects.listClusterCustomObject(installed).then(
      () => true,
      () => false,
    );
    if (served) return installed;
    await sleep(100);
  }
  throw new TestenvError(
    'NOT_READY',
    `${installed.plural}.${installed.group}/${installed.version} was not served within ${timeoutMs} ms`,
  );
}
