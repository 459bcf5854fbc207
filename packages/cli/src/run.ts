// Runs the configured watch through a StreamWatch, printing events or handing them to a plugin.
import { EventListener, type ListenerContext, StreamWatch } from '@kwatch/toolkit';
import type { MultiplexedEvent } from '@kwatch/watch-core';
import type { Level, Setup } from './configure.ts';
import type { Io } from './io.ts';
import { formatEvent, tableHeader } from './output.ts';

/** Prints every event in the chosen format. */
class Printer extends EventListener<unknown> {
  readonly #setup: Setup;
  readonly #io: Io;
  constructor(setup: Setup, io: Io) {
    super();
    this.#setup = setup;
    this.#io = io;
  }
  #print(ctx: ListenerContext<unknown>): void {
    this.#io.out(formatEvent(this.#setup.options.output, ctx.event as MultiplexedEvent<unknown>, this.#io.colour));
  }
  override create(_o: unknown, ctx: ListenerContext<unknown>): void {
    this.#print(ctx);
  }
  override update(_o: unknown, ctx: ListenerContext<unknown>): void {
    this.#print(ctx);
  }
  override delete(_o: unknown, ctx: ListenerContext<unknown>): void {
    this.#print(ctx);
  }
}

/** Hands every event to the plugin's `handleEvent` and logs what it returns. */
class PluginListener extends EventListener<unknown> {
  readonly #setup: Setup;
  constructor(setup: Setup) {
    super();
    this.#setup = setup;
  }
  async #call(ctx: ListenerContext<unknown>): Promise<void> {
    const { plugin, log } = this.#setup;
    if (!plugin) return;
    const event = ctx.event as MultiplexedEvent<unknown>;
    try {
      const result = (await plugin.module.handleEvent(
        { kind: event.kind, name: plugin.name },
        { type: event.type, object: event.object },
        plugin.config,
      )) as { message?: string; level?: Level } | undefined;
      if (result?.message) log(result.level && isLevel(result.level) ? result.level : 'info', result.message);
    } catch (err) {
      log('error', `plugin '${plugin.name}' failed on ${event.type} ${event.kind}: ${(err as Error).message}`);
    }
  }
  override create(_o: unknown, ctx: ListenerContext<unknown>): Promise<void> {
    return this.#call(ctx);
  }
  override update(_o: unknown, ctx: ListenerContext<unknown>): Promise<void> {
    return this.#call(ctx);
  }
  override delete(_o: unknown, ctx: ListenerContext<unknown>): Promise<void> {
    return this.#call(ctx);
  }
}

const isLevel = (l: string): l is Level => ['debug', 'info', 'warn', 'error'].includes(l);

/**
 * Runs the configured watch through a multi-kind {@link StreamWatch} — its health server and leader election, not a
 * copy of them — until Ctrl-C. Events are printed in arrival order (one at a time). Resolves with the exit code:
 * 0 when stopped, 1 when the watch failed for good (every kind refused, e.g. a 403).
 */
export async function run(setup: Setup, io: Io): Promise<number> {
  const { options, mux, namespace, log } = setup;
  const stop = new AbortController();
  void io.interrupted.then(() => stop.abort());
  const kinds = mux.watchers().length;
  const synced = new Set<string>();
  const sw = new StreamWatch(mux, [new Printer(setup, io), ...(setup.plugin ? [new PluginListener(setup)] : [])], {
    kubeConfig: setup.kubeConfig,
    concurrency: 1,
    onMarker: (m) => {
      if (m.type === 'RESYNC') log('warn', `${m.kind}: the server lost our place (${m.reason.code}); resyncing`);
      else if (!synced.has(m.kind)) {
        synced.add(m.kind);
        if (synced.size === kinds) log('info', 'in sync; streaming changes');
      }
    },
  });
  const plurals = mux
    .watchers()
    .map((w) => w.target.info.plural)
    .join(', ');
  log('info', `watching ${plurals} ${namespace ? `in ${namespace}` : 'in all namespaces'} (connecting)`);
  if (options.output === 'table' || options.output === 'wide') io.out(tableHeader(options.output === 'wide'));
  const lease = options.leaderElect;
  if (lease) log('info', `waiting for the lease ${lease}`);
  const running = sw.run({
    signal: stop.signal,
    ...(options.healthPort === undefined ? {} : { healthcheckPort: options.healthPort }),
    ...(setup.metrics ? { healthcheckMetrics: setup.metrics.handler } : {}),
    ...(lease
      ? {
          leaderElection: {
            namespace: namespace ?? 'default',
            name: lease,
            onStartedLeading: () => log('info', `leading ${lease}`),
            onStoppedLeading: () => {
              synced.clear();
              if (!stop.signal.aborted) log('warn', `no longer leading ${lease}; standing by`);
            },
          },
        }
      : {}),
  });
  if (options.healthPort !== undefined) {
    while (!sw.healthUrl && !stop.signal.aborted) await new Promise((r) => setTimeout(r, 10));
    if (sw.healthUrl) log('info', `health on ${sw.healthUrl}/healthz and /readyz${setup.metrics ? ', metrics on /metrics' : ''}`);
  }
  await running;
  await setup.metrics?.shutdown();
  log('info', 'stopped');
  return 0;
}
