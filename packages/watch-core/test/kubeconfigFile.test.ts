import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type KwatchError, readKubeconfig } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'kwatch-kubeconfig-'));
let n = 0;
function file(text: string, name = `config-${n++}`): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
function failure(run: () => unknown): KwatchError {
  try {
    run();
  } catch (e) {
    return e as KwatchError;
  }
  throw new Error('did not throw');
}

const yamlConfig = (server: string, token: string, current = 'a') => `
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: ${server}/
    certificate-authority: certs/ca.crt
    tls-server-name: api.internal
    proxy-url: http://proxy:3128
users:
- name: u
  user:
    token: ${token}
    client-certificate: certs/client.crt
    client-key: /abs/client.key
contexts:
- name: a
  context: { cluster: c, user: u, namespace: web }
- name: b
  context: { cluster: c, user: u }
current-context: ${current}
`;

describe('readKubeconfig', () => {
  it('reads YAML: the current context, paths relative to the file, the server without a trailing slash', () => {
    const kc = readKubeconfig({ path: file(yamlConfig('https://k:6443', 'tok')) });
    expect(kc.context).toBe('a');
    expect(kc.namespace).toBe('web');
    expect(kc.cluster).toMatchObject({
      server: 'https://k:6443',
      certificateAuthority: join(dir, 'certs/ca.crt'),
      tlsServerName: 'api.internal',
      proxyUrl: 'http://proxy:3128',
      insecureSkipTlsVerify: false,
    });
    expect(kc.user).toMatchObject({
      token: 'tok',
      clientCertificate: join(dir, 'certs/client.crt'),
      clientKey: '/abs/client.key',
    });
    expect(readKubeconfig({ path: kc.files[0], context: 'b' }).namespace).toBeUndefined();
  });

  it('merges KUBECONFIG as kubectl: the first file to name a cluster, user, context or current-context wins; missing files skipped', () => {
    const one = file(yamlConfig('https://one', 'first', 'b'));
    const two = file(yamlConfig('https://two', 'second', 'a'));
    const kc = readKubeconfig({ env: { KUBECONFIG: `${join(dir, 'nope')}:${one}:${two}` } });
    expect(kc.context).toBe('b');
    expect(kc.cluster.server).toBe('https://one');
    expect(kc.user.token).toBe('first');
    expect(kc.files).toEqual([one, two]);
  });

  it('~/.kube/config without KUBECONFIG', () => {
    const home = mkdtempSync(join(tmpdir(), 'kwatch-home-'));
    mkdirSync(join(home, '.kube'));
    file(yamlConfig('https://home', 't'), `../${home.split('/').pop()}/.kube/config`);
    expect(readKubeconfig({ env: { HOME: home } }).cluster.server).toBe('https://home');
  });

  it('exec: apiVersion checked, relative commands with a slash resolved, env and installHint kept', () => {
    const kc = readKubeconfig({
      path: file(
        JSON.stringify({
          clusters: [{ name: 'c', cluster: { server: 'https://k' } }],
          users: [
            {
              name: 'u',
              user: {
                exec: {
                  apiVersion: 'client.authentication.k8s.io/v1beta1',
                  command: './bin/cred',
                  args: ['get'],
                  env: [{ name: 'A', value: 'b' }],
                  installHint: 'install it',
                  provideClusterInfo: true,
                },
              },
            },
          ],
          contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
          'current-context': 'x',
        }),
      ),
    });
    expect(kc.user.exec).toMatchObject({ command: join(dir, 'bin/cred'), args: ['get'], provideClusterInfo: true });
  });

  it('a malformed kubeconfig is KUBECONFIG_ERROR naming the file and field, never a value', () => {
    const secret = 'sup3r-s3cret-token';
    const cases: Array<[string, string]> = [
      [`users: [ { name: u, user: { token: ${secret} }`, 'is not valid YAML at line'],
      [`{"users": [{"name": "u", "user": {"token": "${secret}"}`, 'is not valid JSON'],
      [yamlConfig('not a url', secret), 'clusters[c].cluster.server is not a URL'],
      [yamlConfig('https://k', secret).replace('token:', 'token: [x]\n    x:'), 'users[u].user.token must be a string'],
      [yamlConfig('https://k', secret, 'nope'), "has no context named 'nope'"],
      [yamlConfig('https://k', secret).replace('current-context: a', ''), 'has no current-context'],
      ['- just\n- a list', 'is not a mapping'],
    ];
    for (const [text, message] of cases) {
      const path = file(text);
      const e = failure(() => readKubeconfig({ path }));
      expect(e.code, text).toBe('KUBECONFIG_ERROR');
      expect(e.name).toBe('ConfigError');
      expect(e.message).toContain(path);
      expect(e.message).toContain(message);
      expect(e.message).not.toContain(secret);
      expect(e.cause).toBeUndefined();
    }
  });

  it('no kubeconfig at all: says so and where it looked', () => {
    const e = failure(() => readKubeconfig({ env: { KUBECONFIG: join(dir, 'absent') } }));
    expect(e.code).toBe('KUBECONFIG_ERROR');
    expect(e.message).toContain(`No kubeconfig found: looked at ${join(dir, 'absent')}`);
    expect(failure(() => readKubeconfig({ path: join(dir, 'absent') })).message).toContain('does not exist');
  });

  it('insecure-skip-tls-verify only when the kubeconfig says true', () => {
    const text = yamlConfig('https://k', 't').replace('tls-server-name: api.internal', 'insecure-skip-tls-verify: true');
    expect(readKubeconfig({ path: file(text) }).cluster.insecureSkipTlsVerify).toBe(true);
    const quoted = text.replace('insecure-skip-tls-verify: true', 'insecure-skip-tls-verify: "true"');
    expect(failure(() => readKubeconfig({ path: file(quoted) })).message).toContain('must be true or false');
  });
});
