// loadDefaultKubeConfig: client-node's KubeConfig from KUBECONFIG or ~/.kube/config, client-node loaded only when
// it is called, and a file that cannot be read or parsed a KUBECONFIG_ERROR naming it — never quoting it.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect, promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, type KwatchError, loadDefaultKubeConfig } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'kwatch-loaddefault-'));
const SECRET = 'kubeconfig-s3cret-tok3n';
let n = 0;
const file = (text: string) => {
  const path = join(dir, `config-${n++}`);
  writeFileSync(path, text);
  return path;
};
const valid = (server: string, token: string) => `
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: { server: ${server} }
users:
- name: u
  user: { token: ${token} }
contexts:
- name: a
  context: { cluster: c, user: u, namespace: web }
current-context: a
`;
function failure(): KwatchError {
  try {
    loadDefaultKubeConfig();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as KwatchError).code).toBe('KUBECONFIG_ERROR');
    expect((e as Error).cause).toBeUndefined();
    return e as KwatchError;
  }
  throw new Error('did not throw');
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('loadDefaultKubeConfig', () => {
  it('loads KUBECONFIG: its current context, cluster and user', () => {
    vi.stubEnv('KUBECONFIG', file(valid('https://k.example:6443', 'tok')));
    const kc = loadDefaultKubeConfig();
    expect(kc.getCurrentContext()).toBe('a');
    expect(kc.getCurrentCluster()?.server).toBe('https://k.example:6443');
    expect(kc.getCurrentUser()?.token).toBe('tok');
  });

  it('~/.kube/config without KUBECONFIG', () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(join(home, '.kube', 'config'), valid('https://home.example', 't'));
    vi.stubEnv('KUBECONFIG', '');
    vi.stubEnv('HOME', home);
    expect(loadDefaultKubeConfig().getCurrentCluster()?.server).toBe('https://home.example');
  });

  it('malformed YAML: names the file and the line, never the text (which holds a credential)', () => {
    const path = file(`apiVersion: v1\nusers:\n- name: u\n  user:\n    token: ${SECRET}\n  broken: [\n`);
    vi.stubEnv('KUBECONFIG', path);
    const error = failure();
    expect(error.message).toBe(`The kubeconfig (${path}) is not valid YAML at line 7, column 1`);
    expect(inspect(error, { depth: 5 })).not.toContain(SECRET);
    expect(JSON.stringify(error)).not.toContain(SECRET);
  });

  it('an unterminated quoted credential: still not quoted', () => {
    const path = file(`users:\n- name: u\n  user:\n    token: "${SECRET}\n`);
    vi.stubEnv('KUBECONFIG', path);
    const error = failure();
    expect(error.message).toMatch(new RegExp(`^The kubeconfig \\(${path}\\) is not valid YAML at line \\d+, column \\d+$`));
    expect(inspect(error, { depth: 5 })).not.toContain(SECRET);
  });

  it('a file that cannot be read: its path and the reason code', () => {
    const missing = join(dir, 'missing');
    vi.stubEnv('KUBECONFIG', missing);
    expect(failure().message).toBe(`The kubeconfig (${missing}) cannot be read (ENOENT)`);
    vi.stubEnv('KUBECONFIG', dir);
    expect(failure().message).toBe(`The kubeconfig (${dir}) cannot be read (EISDIR)`);
  });

  it('a malformed ~/.kube/config names ~/.kube/config', () => {
    const home = join(dir, 'home-bad');
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(join(home, '.kube', 'config'), `users: [\n  { token: ${SECRET}\n`);
    vi.stubEnv('KUBECONFIG', '');
    vi.stubEnv('HOME', home);
    const error = failure();
    expect(error.message).toMatch(/^The kubeconfig \(~\/\.kube\/config\) is not valid YAML at line \d+, column \d+$/);
    expect(inspect(error, { depth: 5 })).not.toContain(SECRET);
  });

  it('loads @kubernetes/client-node only when called', async () => {
    // A fresh process (vitest's module registry is shared): every module resolved is recorded by a hook.
    const module = join(import.meta.dirname, '..', 'src', 'client', 'kubeconfig.ts');
    const probe = `
      import { registerHooks } from 'node:module';
      const seen = [];
      registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.push(r.url); return r; } });
      const count = () => seen.filter((u) => u.includes('client-node')).length;
      const { loadDefaultKubeConfig } = await import(${JSON.stringify(module)});
      const before = count();
      const kc = loadDefaultKubeConfig();
      console.log(JSON.stringify({ before, after: count() > 0, server: kc.getCurrentCluster()?.server }));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=@kwatch/source', '--input-type=module', '-e', probe],
      { env: { ...process.env, KUBECONFIG: file(valid('https://lazy.example', 't')) }, timeout: 30_000 },
    );
    expect(JSON.parse(stdout)).toEqual({ before: 0, after: true, server: 'https://lazy.example' });
  });
});
