// inClusterKubeconfig(): the API server and service account of a pod, as client-go's InClusterConfig reads them.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inClusterKubeconfig } from '../src/client/inCluster.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
/** A service account mount with the given files. */
function mount(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kwatch-sa-'));
  dirs.push(dir);
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}
const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

describe('inClusterKubeconfig', () => {
  it('the server from the environment, the mounted CA, the token file (re-read per request) and the namespace', () => {
    const dir = mount({ token: 'secret', 'ca.crt': 'PEM', namespace: 'web\n' });
    const kc = inClusterKubeconfig(env, dir);
    expect(kc?.cluster).toMatchObject({ server: 'https://10.96.0.1:443', certificateAuthority: join(dir, 'ca.crt') });
    expect(kc?.user).toMatchObject({ tokenFile: join(dir, 'token'), token: undefined });
    expect(kc?.namespace).toBe('web');
    expect(JSON.stringify(kc)).not.toContain('secret'); // the token is read when a request needs it
  });

  it('an IPv6 host in brackets; no CA file or an empty namespace file leaves them unset', () => {
    const dir = mount({ token: 't', namespace: '' });
    const kc = inClusterKubeconfig({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' }, dir);
    expect(kc?.cluster.server).toBe('https://[fd00::1]:6443');
    expect(kc?.cluster.certificateAuthority).toBeUndefined();
    expect(kc?.namespace).toBeUndefined();
  });

  it('undefined outside a pod: no service host or port in the environment, or no token mounted', () => {
    const dir = mount({ token: 't' });
    expect(inClusterKubeconfig({}, dir)).toBeUndefined();
    expect(inClusterKubeconfig({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }, dir)).toBeUndefined();
    expect(inClusterKubeconfig(env, mount({ 'ca.crt': 'PEM' }))).toBeUndefined();
  });
});
