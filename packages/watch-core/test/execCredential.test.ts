// runExecPlugin: a small node script run as the exec credential plugin (from a temp dir), v1 and v1beta1 — what
// it is given, what it may answer, and failures that name the command and never its output or arguments.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runExecPlugin } from '../src/client/execCredential.ts';
import type { ExecConfig, KubeconfigCluster } from '../src/client/kubeconfigModel.ts';
import { ConfigError, type KwatchError } from '../src/index.ts';

const V1 = 'client.authentication.k8s.io/v1';
const V1BETA1 = 'client.authentication.k8s.io/v1beta1';
const SECRET = 'sup3r-s3cret-t0ken-9f8e7d';
const dir = mkdtempSync(join(tmpdir(), 'kwatch-exec-'));
let n = 0;

/** A node script run as the plugin (`#!node`, executable), its body after `const out = …`. */
function plugin(body: string, name = `plugin-${n++}.mjs`): string {
  const path = join(dir, name);
  writeFileSync(path, `#!${process.execPath}\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}
/** A plugin printing `doc` (JSON) after recording what it was given to a file; returns both paths. */
function echoing(doc: unknown): { command: string; seen: () => { info: unknown; argv: string[]; env: Record<string, unknown> } } {
  const record = join(dir, `seen-${n++}.json`);
  const command = plugin(`
import { writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(record)}, JSON.stringify({
  info: JSON.parse(process.env.KUBERNETES_EXEC_INFO),
  argv: process.argv.slice(2),
  env: { override: process.env.KW_TEST_OVERRIDE, inherited: process.env.KW_TEST_INHERITED },
}));
process.stdout.write(${JSON.stringify(JSON.stringify(doc))});
`);
  return { command, seen: () => JSON.parse(readFileSync(record, 'utf8')) };
}
const execConfig = (command: string, over: Partial<ExecConfig> = {}): ExecConfig => ({
  apiVersion: V1,
  command,
  args: [],
  env: [],
  installHint: undefined,
  provideClusterInfo: false,
  ...over,
});
const cluster = (over: Partial<KubeconfigCluster> = {}): KubeconfigCluster => ({
  name: 'c',
  server: 'https://10.0.0.1:6443',
  certificateAuthorityData: undefined,
  certificateAuthority: undefined,
  insecureSkipTlsVerify: false,
  tlsServerName: undefined,
  proxyUrl: undefined,
  execExtension: undefined,
  ...over,
});
const credential = (status: Record<string, unknown>, apiVersion = V1) => ({ apiVersion, kind: 'ExecCredential', status });

async function failure(exec: ExecConfig): Promise<KwatchError> {
  const error = await runExecPlugin(exec, cluster()).then(
    () => {
      throw new Error('the plugin run did not fail');
    },
    (e: unknown) => e as KwatchError,
  );
  expect(error).toBeInstanceOf(ConfigError);
  expect(error.code).toBe('CREDENTIALS_ERROR');
  expect(error.cause).toBeUndefined();
  return error;
}
/** Nothing of `secret` anywhere in the error as it would be logged. */
function expectNoSecret(error: unknown, secret = SECRET): void {
  expect(inspect(error, { depth: 5 })).not.toContain(secret);
  expect(JSON.stringify(error)).not.toContain(secret);
  expect(String(error)).not.toContain(secret);
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('runExecPlugin: what the plugin is given', () => {
  for (const apiVersion of [V1, V1BETA1]) {
    it(`${apiVersion.split('/')[1]}: KUBERNETES_EXEC_INFO non-interactive without the cluster, args, env on top of ours`, async () => {
      vi.stubEnv('KW_TEST_OVERRIDE', 'ours');
      vi.stubEnv('KW_TEST_INHERITED', 'inherited');
      const { command, seen } = echoing(credential({ token: 'tok-1' }, apiVersion));
      const got = await runExecPlugin(
        execConfig(command, { apiVersion, args: ['--a', 'b c'], env: [{ name: 'KW_TEST_OVERRIDE', value: 'theirs' }] }),
        cluster({ tlsServerName: 'api.internal' }),
      );
      expect(got).toEqual({ token: 'tok-1', cert: undefined, key: undefined, expiresAt: undefined });
      expect(seen()).toEqual({
        info: { apiVersion, kind: 'ExecCredential', spec: { interactive: false } },
        argv: ['--a', 'b c'],
        env: { override: 'theirs', inherited: 'inherited' },
      });
    });
  }

  it('provideClusterInfo: the cluster as kubectl gives it (CA data in base64, the exec extension as config)', async () => {
    const { command, seen } = echoing(credential({ token: 't' }));
    const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    await runExecPlugin(
      execConfig(command, { provideClusterInfo: true }),
      cluster({
        certificateAuthorityData: ca,
        certificateAuthority: '/not/sent/ca.crt',
        insecureSkipTlsVerify: true,
        tlsServerName: 'api.internal',
        proxyUrl: 'http://proxy:3128',
        execExtension: { audience: 'kube', n: 1 },
      }),
    );
    expect((seen().info as { spec: unknown }).spec).toEqual({
      interactive: false,
      cluster: {
        server: 'https://10.0.0.1:6443',
        'tls-server-name': 'api.internal',
        'insecure-skip-tls-verify': true,
        'certificate-authority-data': ca.toString('base64'),
        'proxy-url': 'http://proxy:3128',
        config: { audience: 'kube', n: 1 },
      },
    });
  });

  it('provideClusterInfo with a bare cluster: only its server', async () => {
    const { command, seen } = echoing(credential({ token: 't' }));
    await runExecPlugin(execConfig(command, { provideClusterInfo: true }), cluster());
    expect((seen().info as { spec: unknown }).spec).toEqual({
      interactive: false,
      cluster: { server: 'https://10.0.0.1:6443' },
    });
  });

  it('its stdin is closed: a plugin that reads stdin to the end is not left waiting', async () => {
    const command = plugin(`
let input = '';
for await (const chunk of process.stdin) input += chunk;
process.stdout.write(JSON.stringify({ apiVersion: '${V1}', kind: 'ExecCredential', status: { token: 'stdin:' + input.length } }));
`);
    const got = await Promise.race([
      runExecPlugin(execConfig(command), cluster()),
      new Promise((_, reject) => setTimeout(() => reject(new Error('the plugin still waits for stdin')), 3000)),
    ]);
    expect(got).toMatchObject({ token: 'stdin:0' });
  });
});

describe('runExecPlugin: what the plugin answers', () => {
  it('a client certificate and key (as bytes), with an expiry in ms', async () => {
    const { command } = echoing(
      credential({
        clientCertificateData: 'CERT-PEM',
        clientKeyData: 'KEY-PEM',
        expirationTimestamp: '2030-01-02T03:04:05Z',
      }),
    );
    const got = await runExecPlugin(execConfig(command), cluster());
    expect(got.token).toBeUndefined();
    expect(got.cert).toEqual(Buffer.from('CERT-PEM'));
    expect(got.key).toEqual(Buffer.from('KEY-PEM'));
    expect(got.expiresAt).toBe(Date.UTC(2030, 0, 2, 3, 4, 5));
  });

  it('a token and a certificate together; empty strings count as absent', async () => {
    const { command } = echoing(
      credential({ token: 'tok', clientCertificateData: 'C', clientKeyData: 'K', expirationTimestamp: '' }),
    );
    expect(await runExecPlugin(execConfig(command, { apiVersion: V1 }), cluster())).toEqual({
      token: 'tok',
      cert: Buffer.from('C'),
      key: Buffer.from('K'),
      expiresAt: undefined,
    });
    const empty = echoing(credential({ token: '', clientCertificateData: 'C', clientKeyData: 'K' }));
    expect((await runExecPlugin(execConfig(empty.command), cluster())).token).toBeUndefined();
  });
});

describe('runExecPlugin: failures are CREDENTIALS_ERROR naming the command, never its output', () => {
  const printing = (text: string) => plugin(`process.stdout.write(${JSON.stringify(text)});`, 'my-plugin');
  const cases: Array<[string, string, string]> = [
    ['not JSON', `token=${SECRET}`, 'did not print an ExecCredential (not JSON)'],
    ['null', 'null', 'did not print an ExecCredential (kind)'],
    [
      'another kind',
      JSON.stringify({ apiVersion: V1, kind: 'Secret', status: { token: SECRET } }),
      'did not print an ExecCredential (kind)',
    ],
    ['another apiVersion', JSON.stringify(credential({ token: SECRET }, V1BETA1)), `printed apiVersion ${V1BETA1}, not ${V1}`],
    [
      'no status',
      JSON.stringify({ apiVersion: V1, kind: 'ExecCredential' }),
      'gave neither a token nor a client certificate and key',
    ],
    ['an empty token', JSON.stringify(credential({ token: '' })), 'gave neither a token nor a client certificate and key'],
    [
      'a token that is not a string',
      JSON.stringify(credential({ token: 12345 })),
      'gave neither a token nor a client certificate and key',
    ],
    [
      'a certificate without its key',
      JSON.stringify(credential({ clientCertificateData: SECRET })),
      'gave neither a token nor a client certificate and key',
    ],
    [
      'a token and a key without its certificate',
      JSON.stringify(credential({ token: 't', clientKeyData: SECRET })),
      'gave a client certificate without its key (or the reverse)',
    ],
    [
      'an expiry that is not a time',
      JSON.stringify(credential({ token: SECRET, expirationTimestamp: 'tomorrow' })),
      'gave an expirationTimestamp that is not a time',
    ],
  ];
  for (const [what, output, says] of cases) {
    it(`${what}: "${says}"`, async () => {
      const error = await failure(execConfig(printing(output)));
      expect(error.message).toBe(`The exec credential plugin 'my-plugin' ${says}`);
      expectNoSecret(error);
    });
  }

  it('a non-zero exit: the exit code, not stdout, stderr or the arguments', async () => {
    const command = plugin(`
process.stdout.write(${JSON.stringify(JSON.stringify(credential({ token: SECRET })))});
process.stderr.write('stderr: ${SECRET}');
process.exit(7);
`);
    const error = await failure(execConfig(command, { args: [`--token=${SECRET}`] }));
    expect(error.message).toMatch(/^The exec credential plugin 'plugin-\d+\.mjs' failed \(exit code 7\)$/);
    expect(error.message).not.toContain(dir); // the command's name only
    expectNoSecret(error);
  });

  it('killed by a signal: the signal', async () => {
    const command = plugin(
      `process.stdout.write('${SECRET}'); process.kill(process.pid, 'SIGTERM'); setTimeout(() => {}, 10_000);`,
    );
    const error = await failure(execConfig(command));
    expect(error.message).toMatch(/ failed \(signal SIGTERM\)$/);
    expectNoSecret(error);
  });

  it('an answer over 1 MiB is refused without quoting it', async () => {
    const command = plugin(
      `process.stdout.write(JSON.stringify({ apiVersion: '${V1}', kind: 'ExecCredential', status: { token: '${SECRET}'.repeat(50_000) } }));`,
    );
    const error = await failure(execConfig(command));
    expect(error.message).toMatch(/^The exec credential plugin 'plugin-\d+\.mjs' failed \(/);
    expectNoSecret(error);
  });

  it('a command that is not there: "was not found", with the install hint when the kubeconfig gives one', async () => {
    const missing = join(dir, 'no-such-plugin');
    const plain = await failure(execConfig(missing, { args: [SECRET] }));
    expect(plain.message).toBe("The exec credential plugin 'no-such-plugin' was not found");
    expectNoSecret(plain);
    const hinted = await failure(execConfig('kwatch-no-such-plugin', { installHint: 'brew install it' }));
    expect(hinted.message).toBe("The exec credential plugin 'kwatch-no-such-plugin' was not found: brew install it");
  });
});
