// A watching process's settings, layered from flags, environment, config file and service account; exit codes.
import { existsSync, readFileSync } from 'node:fs';
import { type CodesOf, ConfigError, checkOptions, KindError, optionSchemas } from '@kwatch/watch-core';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULTS } from './defaults.ts';

/** Exit codes of configuration failures, one per missing setting (as the OpenShift event watcher had). */
export const EXIT_CODES = {
  missingEndpoint: 31,
  missingToken: 32,
  missingResource: 33,
  pluginFailed: 34,
  badConfigFile: 35,
  /** No kubeconfig found, or one that cannot be read (missing file, not YAML, unknown context). */
  badKubeconfig: 36,
} as const;

/** The exit code of each `ConfigError` code a watching process can fail with before it watches. */
const EXIT_CODE_OF: Partial<Record<CodesOf<'ConfigError'>, number>> = {
  MISSING_ENDPOINT: EXIT_CODES.missingEndpoint,
  MISSING_TOKEN: EXIT_CODES.missingToken,
  MISSING_RESOURCE: EXIT_CODES.missingResource,
  PLUGIN_ERROR: EXIT_CODES.pluginFailed,
  CONFIG_FILE_ERROR: EXIT_CODES.badConfigFile,
  INVALID_SETTING: EXIT_CODES.badConfigFile,
  KUBECONFIG_ERROR: EXIT_CODES.badKubeconfig,
};

/**
 * The process exit code of a failure before the watch started, from its error code: a `ConfigError` of
 * {@link loadConfig}, {@link loadPlugin} or a kubeconfig (31–36, {@link EXIT_CODES}), a `KindError` (an unknown or
 * unwatchable kind: 33). `undefined` for anything else (the caller's general failure code).
 *
 * @example
 * ```ts
 * try { loadConfig(); } catch (e) { process.exit(exitCodeOf(e) ?? 1); }
 * ```
 */
export function exitCodeOf(error: unknown): number | undefined {
  if (error instanceof KindError) return EXIT_CODES.missingResource;
  if (error instanceof ConfigError) return EXIT_CODE_OF[error.code as CodesOf<'ConfigError'>];
  return undefined;
}

/** The settings of a watching process, after layering. */
export interface WatcherConfig {
  /** API server URL, when not taken from a kubeconfig. */
  endpoint?: string;
  /** Bearer token for `endpoint` (never logged). */
  token?: string;
  /** CA bundle (PEM file path) for `endpoint`. */
  ca?: string;
  namespace?: string;
  /** Resources to watch: plurals, or `plural.version.group`. */
  resources: string[];
  plugin?: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Settings of each plugin, from its config-file section. */
  plugins: Record<string, Record<string, string>>;
  /** Where each setting came from, for `--explain`-style diagnostics (never the values). */
  sources: Record<string, 'env' | 'file' | 'serviceaccount' | 'default' | 'flag'>;
}

/** Where {@link loadConfig} reads from; each defaults to the real thing. Every default is in `DEFAULTS.config`. */
export interface ConfigInputs {
  /** The environment. Default: `process.env`. */
  readonly env?: Record<string, string | undefined>;
  /** An ini or YAML file with a `global` section and `plugin_<name>` sections. Default: none. */
  readonly file?: string;
  /** The service account directory. Default: `/var/run/secrets/kubernetes.io/serviceaccount`. */
  readonly serviceAccountDir?: string;
  /** Fail (`MISSING_RESOURCE`) when no resource is configured. Default: `true`. */
  readonly requireResource?: boolean;
  /** Settings from command-line flags, the highest layer. Default: none. */
  readonly flags?: Partial<Pick<WatcherConfig, 'namespace' | 'resources' | 'plugin' | 'logLevel'>>;
}

/** {@link ConfigInputs} with every default applied. */
interface ResolvedConfigInputs {
  readonly env: Record<string, string | undefined>;
  readonly file: string | undefined;
  readonly serviceAccountDir: string;
  readonly requireResource: boolean;
  readonly flags: NonNullable<ConfigInputs['flags']>;
}

const { string, nonEmpty, boolean } = optionSchemas;

const ConfigInputsSchema = z.strictObject({
  env: z
    .custom<Record<string, string | undefined>>((v) => typeof v === 'object' && v !== null, 'an object of strings')
    .optional(),
  file: nonEmpty.optional(),
  serviceAccountDir: nonEmpty.optional(),
  requireResource: boolean.optional(),
  flags: z
    .strictObject({
      namespace: string.optional(),
      resources: z.array(nonEmpty, { error: 'an array of resource names' }).optional(),
      plugin: nonEmpty.optional(),
      logLevel: string.optional(),
    })
    .optional(),
});

/**
 * Validates {@link loadConfig}'s inputs and applies the defaults: an unknown or bad input is a `KwatchError`
 * `INVALID_OPTION` naming it (a bad *setting* found in them is a `ConfigError`).
 */
function resolveConfigInputs(inputs: ConfigInputs | undefined): ResolvedConfigInputs {
  const o = checkOptions(ConfigInputsSchema, inputs, 'the config inputs') as ConfigInputs;
  return {
    env: o.env ?? process.env,
    file: o.file,
    serviceAccountDir: o.serviceAccountDir ?? DEFAULTS.config.serviceAccountDir,
    requireResource: o.requireResource ?? DEFAULTS.config.requireResource,
    flags: o.flags ?? {},
  };
}

/** Parses an ini text: `[section]`, `key = value`, `;` and `#` comments. */
export function parseIni(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section = 'global';
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith(';') || line.startsWith('#')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = (header[1] as string).trim();
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new ConfigError('CONFIG_FILE_ERROR', `line ${i + 1} is neither [section] nor key = value`);
    const entries = out[section] ?? {};
    entries[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    out[section] = entries;
  }
  return out;
}

function readConfigFile(file: string): Record<string, Record<string, string>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      'CONFIG_FILE_ERROR',
      `cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  try {
    if (/\.ya?ml$/i.test(file)) {
      const doc = (parseYaml(text) ?? {}) as Record<string, Record<string, unknown>>;
      return Object.fromEntries(
        Object.entries(doc).map(([k, v]) => [k, Object.fromEntries(Object.entries(v ?? {}).map(([a, b]) => [a, String(b)]))]),
      );
    }
    return parseIni(text);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError('CONFIG_FILE_ERROR', `config file ${file}: ${err.message}`);
    throw new ConfigError('CONFIG_FILE_ERROR', `config file ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * Layers the configuration as the OpenShift event watcher did, without its bugs:
 * flags > environment (`K8S_API_ENDPOINT`, `K8S_TOKEN`, `K8S_CA`, `K8S_NAMESPACE`,
 * `K8S_RESOURCE`, `K8S_API_GROUP`, `K8S_API_VERSION`, `WATCHER_PLUGIN`, `LOG_LEVEL`) > config
 * file (`[global]`, `[plugin_<name>]`) > in-cluster service-account files > defaults.
 * A missing or bad setting is a `ConfigError` whose code says which ({@link exitCodeOf} gives its exit code).
 *
 * @example
 * ```ts
 * const config = loadConfig({ file: 'watcher.ini' }); // throws ConfigError MISSING_RESOURCE (exit code 33) when no resource is set
 * ```
 */
export function loadConfig(inputs: ConfigInputs = {}): WatcherConfig {
  const o = resolveConfigInputs(inputs);
  const env = o.env;
  const file = o.file ? readConfigFile(o.file) : {};
  const global = file.global ?? {};
  const saDir = o.serviceAccountDir;
  const sa = (name: string) => (existsSync(`${saDir}/${name}`) ? readFileSync(`${saDir}/${name}`, 'utf8').trim() : undefined);
  const sources: WatcherConfig['sources'] = {};
  const pick = (key: string, envName: string, fileKey: string, saFile?: string, flag?: string): string | undefined => {
    const layers: Array<[WatcherConfig['sources'][string], string | undefined]> = [
      ['flag', flag],
      ['env', env[envName] || undefined],
      ['file', global[fileKey] || undefined],
      ['serviceaccount', saFile ? sa(saFile) : undefined],
    ];
    const found = layers.find(([, value]) => value !== undefined);
    if (found) sources[key] = found[0];
    return found?.[1];
  };
  const endpoint = pick('endpoint', 'K8S_API_ENDPOINT', 'endpoint');
  const token = pick('token', 'K8S_TOKEN', 'token', endpoint ? 'token' : undefined);
  const ca = pick('ca', 'K8S_CA', 'ca', undefined) ?? (endpoint && sa('ca.crt') ? `${saDir}/ca.crt` : undefined);
  const namespace = pick('namespace', 'K8S_NAMESPACE', 'namespace', 'namespace', o.flags.namespace);
  const group = pick('group', 'K8S_API_GROUP', 'group');
  const version = pick('version', 'K8S_API_VERSION', 'version');
  let resources = o.flags.resources?.length ? o.flags.resources : undefined;
  if (resources) sources.resources = 'flag';
  else {
    const r = pick('resources', 'K8S_RESOURCE', 'resource');
    if (r) resources = r.split(',').map((x) => (version ? `${x}.${version}${group ? `.${group}` : ''}` : x));
  }
  if (token && !endpoint)
    throw new ConfigError('MISSING_ENDPOINT', 'K8S_TOKEN is set but K8S_API_ENDPOINT (or endpoint= in [global]) is missing');
  if (endpoint && !token)
    throw new ConfigError(
      'MISSING_TOKEN',
      `K8S_API_ENDPOINT is set but no token: set K8S_TOKEN, token= in [global], or run in a pod with a service account`,
    );
  if (!resources?.length && o.requireResource)
    throw new ConfigError(
      'MISSING_RESOURCE',
      'nothing to watch: give kinds as arguments, K8S_RESOURCE, or resource= in [global]',
    );
  const level = (
    pick('logLevel', 'LOG_LEVEL', 'log_level', undefined, o.flags.logLevel) ?? DEFAULTS.config.logLevel
  ).toLowerCase();
  if (!(LEVELS as readonly string[]).includes(level))
    throw new ConfigError('INVALID_SETTING', `LOG_LEVEL must be one of ${LEVELS.join(', ')}, got ${level}`);
  sources.logLevel ??= 'default';
  const plugin = pick('plugin', 'WATCHER_PLUGIN', 'plugin', undefined, o.flags.plugin);
  const plugins = Object.fromEntries(
    Object.entries(file)
      .filter(([s]) => s.startsWith('plugin_'))
      .map(([s, v]) => [s.slice('plugin_'.length), v]),
  );
  return {
    ...(endpoint ? { endpoint } : {}),
    ...(token ? { token } : {}),
    ...(ca ? { ca } : {}),
    ...(namespace ? { namespace } : {}),
    resources: resources ?? [],
    ...(plugin ? { plugin } : {}),
    logLevel: level as WatcherConfig['logLevel'],
    plugins,
    sources,
  };
}
