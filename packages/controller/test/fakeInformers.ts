// A fake InformerFactory for controller tests without a control plane: objects set by hand, events pushed at once.
import { type InformerFactory, WatchEvent } from '@kwatch/watch-core';

type Obj = { metadata?: { namespace?: string; name?: string; resourceVersion?: string } };

/** A factory whose one store and stream hold the objects {@link FakeInformers.set} gives. */
export class FakeInformers {
  readonly #objects = new Map<string, Obj>();
  readonly #listeners = new Set<(e: unknown) => void>();
  #rv = 0;

  /** The factory to pass as `informers` (the initial list is the objects set so far). */
  get factory(): InformerFactory {
    const objects = this.#objects;
    const listeners = this.#listeners;
    const store = {
      get: (ns: string | undefined, name: string) => objects.get(`${ns ?? ''}/${name}`),
      synced: () => Promise.resolve(),
      release: () => {},
      isReady: true,
      // Related kinds: none change in these tests.
      events: async function* ({ signal }: { signal: AbortSignal }) {
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      },
    };
    const stream = ({ signal }: { signal: AbortSignal }) =>
      (async function* () {
        const backlog: unknown[] = [...objects.values()].map((o) => new WatchEvent('ADDED', o));
        backlog.push({ type: 'SYNCED', initial: true, resourceVersion: undefined });
        let wake: (() => void) | undefined;
        const push = (e: unknown): void => {
          backlog.push(e);
          wake?.();
        };
        listeners.add(push);
        const onAbort = (): void => wake?.();
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          while (!signal.aborted) {
            const e = backlog.shift();
            if (e !== undefined) yield e;
            else await new Promise<void>((resolve) => (wake = resolve));
          }
        } finally {
          listeners.delete(push);
          signal.removeEventListener('abort', onAbort);
        }
      })();
    return {
      store: () => store,
      stream: (_kind: unknown, options: { signal: AbortSignal }) => stream(options),
      watches: () => [],
    } as unknown as InformerFactory;
  }

  /** Creates or changes an object (a new resourceVersion) and tells the stream at once. */
  set(namespace: string, name: string, fields: Record<string, unknown> = {}): void {
    const key = `${namespace}/${name}`;
    const object = { ...fields, metadata: { namespace, name, resourceVersion: String(++this.#rv) } };
    const type = this.#objects.has(key) ? 'MODIFIED' : 'ADDED';
    this.#objects.set(key, object);
    for (const push of this.#listeners) push(new WatchEvent(type, object));
  }
}
