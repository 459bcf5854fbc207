import { existsSync, readFileSync } from 'node:fs';
import { KwatchError } from '@kwatch/watch-core';
import { parse as parseYaml } from 'yaml';

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

/** A configuration failure: says what is missing and carries its process exit code. */
export class ConfigError extends KwatchError {
  override name = 'ConfigError';
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super('INVALID_OPTION', message);
    this.exitCode = exitCode;
  }
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

/** Where to read from; each defaults to the real thing. */
export interface ConfigInputs {
  readonly env?: Record<string, string | undefined>;
  /** An ini or YAML file with a `global` section and `plugin_<name>` sections. */
  readonly file?: string;
  /** The service account directory. Default: `/var/run/secrets/kubernetes.io/serviceaccount`. */
  readonly serviceAccountDir?: string;
  /** Fail when no resource is configured. Default: `true`. */
  readonly requireResource?: boolean;
  /** Settings from command-line flags, the highest layer. */
  readonly flags?: Partial<Pick<WatcherConfig, 'namespace' | 'resources' | 'plugin' | 'logLevel'>>;
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
    if (eq <= 0) throw new ConfigError(`line ${i + 1} is neither [section] nor key = value`, EXIT_CODES.badConfigFile);
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
      `cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      EXIT_CODES.badConfigFile,
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
    if (err instanceof ConfigError) throw new ConfigError(`config file ${file}: ${err.message}`, err.exitCode);
    throw new ConfigError(
      `config file ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`,
      EXIT_CODES.badConfigFile,
    );
  }
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * Layers the configuration as the OpenShift event watcher did, without its bugs:
 * flags > environment (`K8S_API_ENDPOINT`, `K8S_TOKEN`, `K8S_CA`, `K8S_NAMESPACE`,
 * `K8S_RESOURCE`, `K8S_API_GROUP`, `K8S_API_VERSION`, `WATCHER_PLUGIN`, `LOG_LEVEL`) > config
 * file (`[global]`, `[plugin_<name>]`) > in-cluster service-account files > defaults.
 * A missing setting is a {@link ConfigError} with its own exit code.
 *
 * @example
 * ```ts
 * const config = loadConfig({ file: 'watcher.ini' }); // throws ConfigError (exitCode 33) when no resource is set
 * ```
 */
export function loadConfig(inputs: ConfigInputs = {}): WatcherConfig {
  const env = inputs.env ?? process.env;
  const file = inputs.file ? readConfigFile(inputs.file) : {};
  const global = file.global ?? {};
  const saDir = inputs.serviceAccountDir ?? '/var/run/secrets/kubernetes.io/serviceaccount';
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
  const namespace = pick('namespace', 'K8S_NAMESPACE', 'namespace', 'namespace', inputs.flags?.namespace);
  const group = pick('group', 'K8S_API_GROUP', 'group');
  const version = pick('version', 'K8S_API_VERSION', 'version');
  let resources = inputs.flags?.resources?.length ? inputs.flags.resources : undefined;
  if (resources) sources.resources = 'flag';
  else {
    const r = pick('resources', 'K8S_RESOURCE', 'resource');
    if (r) resources = r.split(',').map((x) => (version ? `${x}.${version}${group ? `.${group}` : ''}` : x));
  }
  if (token && !endpoint)
    throw new ConfigError(
      'K8S_TOKEN is set but K8S_API_ENDPOINT (or endpoint= in [global]) is missing',
      EXIT_CODES.missingEndpoint,
    );
  if (endpoint && !token)
    throw new ConfigError(
      `K8S_API_ENDPOINT is set but no token: set K8S_TOKEN, token= in [global], or run in a pod with a service account`,
      EXIT_CODES.missingToken,
    );
  if (!resources?.length)
    throw new ConfigError(
      'nothing to watch: give kinds as arguments, K8S_RESOURCE, or resource= in [global]',
      EXIT_CODES.missingResource,
    );
  const level = (pick('logLevel', 'LOG_LEVEL', 'log_level', undefined, inputs.flags?.logLevel) ?? 'info').toLowerCase();
  if (!(LEVELS as readonly string[]).includes(level))
    throw new ConfigError(`LOG_LEVEL must be one of ${LEVELS.join(', ')}, got ${level}`, EXIT_CODES.badConfigFile);
  sources.logLevel ??= 'default';
  const plugin = pick('plugin', 'WATCHER_PLUGIN', 'plugin', undefined, inputs.flags?.plugin);
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
