// Watcher plugins: a module exporting handleEvent(ctx, event, config), loaded by explicit name or path.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '@kwatch/watch-core';

/** What a plugin's `handleEvent` may return: a message to log, at a level. */
export interface PluginResult {
  readonly message: string;
  readonly level?: 'debug' | 'info' | 'warn' | 'error';
}

/** What a plugin gets with every event. */
export interface PluginContext {
  /** The kind of the event's object, e.g. `Pod`. */
  readonly kind: string;
  /** The plugin's own settings (its `[plugin_<name>]` section). */
  readonly name: string;
}

/** A plugin module: exports `handleEvent(ctx, event, config)`. */
export interface WatcherPlugin {
  handleEvent(ctx: PluginContext, event: { type: string; object: unknown }, config: Record<string, string>): unknown;
}

/**
 * Loads a plugin by an explicit package name or file path (never by searching): a module
 * exporting `handleEvent(ctx, event, config)` that returns `{ message, level }` or nothing.
 * A plugin that cannot be loaded, or lacks `handleEvent`, is a `ConfigError` `PLUGIN_ERROR` naming it (exit code 34).
 *
 * @example
 * ```ts
 * const plugin = await loadPlugin('./plugins/notify.mjs');
 * ```
 */
export async function loadPlugin(nameOrPath: string, cwd = process.cwd()): Promise<WatcherPlugin> {
  const isPath = nameOrPath.startsWith('.') || isAbsolute(nameOrPath) || nameOrPath.startsWith('file:');
  const specifier = isPath && !nameOrPath.startsWith('file:') ? pathToFileURL(resolve(cwd, nameOrPath)).href : nameOrPath;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError('PLUGIN_ERROR', `plugin '${nameOrPath}' could not be loaded: ${(err as Error).message.split('\n')[0]}`);
  }
  const handleEvent = mod.handleEvent ?? (mod.default as Record<string, unknown> | undefined)?.handleEvent;
  if (typeof handleEvent !== 'function') {
    throw new ConfigError('PLUGIN_ERROR', `plugin '${nameOrPath}' does not export handleEvent(ctx, event, config)`);
  }
  return { handleEvent: handleEvent as WatcherPlugin['handleEvent'] };
}
