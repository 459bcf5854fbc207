import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, EXIT_CODES, loadConfig, loadPlugin } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'kwatch-config-'));
const ini = join(dir, 'watcher.ini');
writeFileSync(
  ini,
  '; the seed format\n[global]\nresource = pods\nnamespace = from-file\nlog_level = debug\n\n[plugin_notify]\nprefix = [k8s] \n',
);
const yaml = join(dir, 'watcher.yaml');
writeFileSync(yaml, 'global:\n  resource: configmaps\n  namespace: yaml-ns\nplugin_notify:\n  prefix: "y: "\n');
const sa = join(dir, 'sa');
writeFileSync(join(dir, 'placeholder'), '');

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig: flags > env > file > service account > defaults', () => {
  it('reads an ini file with a section per plugin', () => {
    const c = loadConfig({ env: {}, file: ini, serviceAccountDir: sa });
    expect(c).toMatchObject({
      resources: ['pods'],
      namespace: 'from-file',
      logLevel: 'debug',
      plugins: { notify: { prefix: '[k8s]' } },
    });
    expect(c.sources).toMatchObject({ resources: 'file', namespace: 'file', logLevel: 'file' });
  });

  it('reads YAML too', () => {
    expect(loadConfig({ env: {}, file: yaml, serviceAccountDir: sa })).toMatchObject({
      resources: ['configmaps'],
      namespace: 'yaml-ns',
      plugins: { notify: { prefix: 'y: ' } },
    });
  });

  it('the environment wins over the file, and flags over both', () => {
    const env = {
      K8S_NAMESPACE: 'from-env',
      K8S_RESOURCE: 'deployments',
      K8S_API_GROUP: 'apps',
      K8S_API_VERSION: 'v1',
      LOG_LEVEL: 'WARN',
    };
    const c = loadConfig({ env, file: ini, serviceAccountDir: sa });
    expect(c).toMatchObject({ namespace: 'from-env', resources: ['deployments.v1.apps'], logLevel: 'warn' });
    expect(
      loadConfig({ env, file: ini, serviceAccountDir: sa, flags: { namespace: 'from-flag', resources: ['secrets'] } }),
    ).toMatchObject({
      namespace: 'from-flag',
      resources: ['secrets'],
    });
  });

  it('in a pod, the service account gives token, CA and namespace', () => {
    const saDir = mkdtempSync(join(tmpdir(), 'kwatch-sa-'));
    writeFileSync(join(saDir, 'token'), 'sa-token\n');
    writeFileSync(join(saDir, 'ca.crt'), 'PEM');
    writeFileSync(join(saDir, 'namespace'), 'pod-ns');
    const c = loadConfig({ env: { K8S_API_ENDPOINT: 'https://10.0.0.1', K8S_RESOURCE: 'pods' }, serviceAccountDir: saDir });
    expect(c).toMatchObject({ endpoint: 'https://10.0.0.1', token: 'sa-token', ca: join(saDir, 'ca.crt'), namespace: 'pod-ns' });
    expect(c.sources).toMatchObject({ token: 'serviceaccount', namespace: 'serviceaccount' });
  });

  it('each missing setting is a clear error with its own exit code, and never shows a token', () => {
    const noResource = configError(() => loadConfig({ env: {}, serviceAccountDir: sa }));
    expect(noResource.exitCode).toBe(EXIT_CODES.missingResource);
    expect(noResource.message).toContain('nothing to watch');
    const noEndpoint = configError(() =>
      loadConfig({ env: { K8S_TOKEN: 'tok-123456', K8S_RESOURCE: 'pods' }, serviceAccountDir: sa }),
    );
    expect(noEndpoint.exitCode).toBe(EXIT_CODES.missingEndpoint);
    expect(noEndpoint.message).not.toContain('tok-123456');
    expect(
      configError(() => loadConfig({ env: { K8S_API_ENDPOINT: 'https://x', K8S_RESOURCE: 'pods' }, serviceAccountDir: sa }))
        .exitCode,
    ).toBe(EXIT_CODES.missingToken);
    const badIni = join(dir, 'bad.ini');
    writeFileSync(badIni, '[global]\nthis line is wrong\n');
    expect(configError(() => loadConfig({ env: {}, file: badIni })).message).toBe(
      `config file ${badIni}: line 2 is neither [section] nor key = value`,
    );
    expect(configError(() => loadConfig({ env: {}, file: join(dir, 'missing.ini') })).exitCode).toBe(EXIT_CODES.badConfigFile);
  });
});

describe('loadPlugin', () => {
  it('loads a plugin by path and calls handleEvent', async () => {
    const plugin = await loadPlugin(join(import.meta.dirname, 'fixtures/notify-plugin.mjs'));
    expect(
      plugin.handleEvent(
        { kind: 'Pod', name: 'notify' },
        { type: 'DELETED', object: { metadata: { name: 'p' } } },
        { prefix: '! ' },
      ),
    ).toEqual({
      message: '! Pod p is gone',
      level: 'warn',
    });
  });

  it('a broken or missing plugin is a clear error naming it, with the plugin exit code', async () => {
    await expect(loadPlugin(join(import.meta.dirname, 'fixtures/broken-plugin.mjs'))).rejects.toMatchObject({
      exitCode: EXIT_CODES.pluginFailed,
      message: expect.stringContaining("broken-plugin.mjs' does not export handleEvent(ctx, event, config)"),
    });
    await expect(loadPlugin('kwatch-plugin-that-does-not-exist')).rejects.toMatchObject({
      exitCode: EXIT_CODES.pluginFailed,
      message: expect.stringContaining("plugin 'kwatch-plugin-that-does-not-exist' could not be loaded"),
    });
  });
});
