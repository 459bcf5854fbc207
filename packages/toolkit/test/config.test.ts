import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, KindError, KwatchError, TransportError } from '@kwatch/watch-core';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, EXIT_CODES, exitCodeOf, loadConfig, loadPlugin } from '../src/index.ts';

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
    expect(noResource.code).toBe('MISSING_RESOURCE');
    expect(exitCodeOf(noResource)).toBe(EXIT_CODES.missingResource);
    expect(noResource.message).toContain('nothing to watch');
    const noEndpoint = configError(() =>
      loadConfig({ env: { K8S_TOKEN: 'tok-123456', K8S_RESOURCE: 'pods' }, serviceAccountDir: sa }),
    );
    expect(noEndpoint.code).toBe('MISSING_ENDPOINT');
    expect(exitCodeOf(noEndpoint)).toBe(EXIT_CODES.missingEndpoint);
    expect(noEndpoint.message).not.toContain('tok-123456');
    const noToken = configError(() =>
      loadConfig({ env: { K8S_API_ENDPOINT: 'https://x', K8S_RESOURCE: 'pods' }, serviceAccountDir: sa }),
    );
    expect([noToken.code, exitCodeOf(noToken)]).toEqual(['MISSING_TOKEN', EXIT_CODES.missingToken]);
    const badIni = join(dir, 'bad.ini');
    writeFileSync(badIni, '[global]\nthis line is wrong\n');
    const bad = configError(() => loadConfig({ env: {}, file: badIni }));
    expect(bad.message).toBe(`config file ${badIni}: line 2 is neither [section] nor key = value`);
    expect([bad.code, exitCodeOf(bad)]).toEqual(['CONFIG_FILE_ERROR', EXIT_CODES.badConfigFile]);
    const missing = configError(() => loadConfig({ env: {}, file: join(dir, 'missing.ini') }));
    expect([missing.code, exitCodeOf(missing)]).toEqual(['CONFIG_FILE_ERROR', EXIT_CODES.badConfigFile]);
    const level = configError(() => loadConfig({ env: { LOG_LEVEL: 'loud', K8S_RESOURCE: 'pods' }, serviceAccountDir: sa }));
    expect([level.code, exitCodeOf(level), level.message]).toEqual([
      'INVALID_SETTING',
      EXIT_CODES.badConfigFile,
      'LOG_LEVEL must be one of debug, info, warn, error, got loud',
    ]);
  });

  it('requireResource: false lets a configuration without resources through (the CLI with only --crd)', () => {
    expect(loadConfig({ env: {}, serviceAccountDir: sa, requireResource: false }).resources).toEqual([]);
  });

  it('applies the defaults of DEFAULTS.config', () => {
    const c = loadConfig({ env: { K8S_RESOURCE: 'pods' }, serviceAccountDir: sa });
    expect(c.logLevel).toBe(DEFAULTS.config.logLevel);
    expect(c.sources.logLevel).toBe('default');
    expect(DEFAULTS.config).toEqual({
      serviceAccountDir: '/var/run/secrets/kubernetes.io/serviceaccount',
      requireResource: true,
      logLevel: 'info',
    });
  });

  it.each([
    [{ file: 5 }, 'Expected `file` to be a non-empty string, got 5'],
    [{ requireResource: 'no' }, 'Expected `requireResource` to be true or false, got "no"'],
    [{ flags: { resources: 'pods' } }, 'Expected `flags.resources` to be an array of resource names, got "pods"'],
    [{ enviroment: {} }, 'Unknown option `enviroment`'],
  ])('bad inputs are INVALID_OPTION naming the input: %o', (inputs, message) => {
    expect(() => loadConfig(inputs as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message }));
  });
});

describe('one ConfigError', () => {
  it("the toolkit's configuration errors are watch-core's ConfigError (instanceof, name, table code)", () => {
    const e = configError(() => loadConfig({ env: {}, serviceAccountDir: sa }));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e).toBeInstanceOf(KwatchError);
    expect(e.name).toBe('ConfigError');
    expect(e.retryable).toBe(false);
  });

  it('exitCodeOf maps error codes to exit codes: ConfigError codes 31-36, a KindError 33, anything else none', () => {
    expect(exitCodeOf(new ConfigError('KUBECONFIG_ERROR', 'x'))).toBe(EXIT_CODES.badKubeconfig);
    expect(exitCodeOf(new ConfigError('PLUGIN_ERROR', 'x'))).toBe(EXIT_CODES.pluginFailed);
    expect(exitCodeOf(new KindError('NOT_A_KIND', 'x'))).toBe(EXIT_CODES.missingResource);
    expect(exitCodeOf(new ConfigError('CREDENTIALS_ERROR', 'x'))).toBeUndefined();
    expect(exitCodeOf(new TransportError('NETWORK_ERROR', 'x'))).toBeUndefined();
    expect(exitCodeOf(new Error('x'))).toBeUndefined();
    expect(exitCodeOf(undefined)).toBeUndefined();
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
    const broken = await loadPlugin(join(import.meta.dirname, 'fixtures/broken-plugin.mjs')).catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(ConfigError);
    expect(broken).toMatchObject({
      code: 'PLUGIN_ERROR',
      message: expect.stringContaining("broken-plugin.mjs' does not export handleEvent(ctx, event, config)"),
    });
    expect(exitCodeOf(broken)).toBe(EXIT_CODES.pluginFailed);
    const missing = await loadPlugin('kwatch-plugin-that-does-not-exist').catch((e: unknown) => e);
    expect(missing).toMatchObject({
      code: 'PLUGIN_ERROR',
      message: expect.stringContaining("plugin 'kwatch-plugin-that-does-not-exist' could not be loaded"),
    });
    expect(exitCodeOf(missing)).toBe(EXIT_CODES.pluginFailed);
  });
});
