// SimulatedApiServer: an in-process, deterministic apiserver for unit tests of watch clients.
import type { ChunkPolicy } from './body.ts';
import { ManualClock, type SimClock } from './clock.ts';
import { History, type StoredObject } from './history.ts';
import { answerList, keyOf, loopingPage } from './list.ts';
import { type SimModes, WELL_BEHAVED } from './modes.ts';
import { changedObject, type NewObject, newObject, type ObjectChange } from './objects.ts';
import type { SimRequest, SimulatedApiServerOptions } from './options.ts';
import { DEFAULT_SIM_RESOURCES, findResource, type ParsedPath, parsePath, resourceId, type SimResource } from './resources.ts';
import { defaultErrorFactory, reasonFor, type SimErrorFactory, type SimStatus, statusOf } from './status.ts';
import { WatchSession } from './watch.ts';
import { parseWatchQuery } from './watchQuery.ts';

/**
 * An in-process, deterministic Kubernetes apiserver for unit tests of watch clients: a real
 * history (global resourceVersions, compaction), LIST with pagination, watches with every
 * resourceVersion rule, bookmarks, WatchList, timeouts, 410 Gone, chunking, and switchable
 * misbehaviour. It implements kwatch's `WatchTransport` (`getJson`, `openStream`) structurally.
 * It never replaces the real control plane in conformance tests.
 *
 * @example
 * ```ts
 * import { apiErrorFrom, Watcher } from '@kwatch/watch-core';
 * import { ManualClock, SimulatedApiServer } from '@kwatch/testenv';
 *
 * const clock = new ManualClock();
 * const sim = new SimulatedApiServer({ clock, errorFactory: apiErrorFrom });
 * sim.create('configmaps', { metadata: { namespace: 'ns', name: 'a' }, data: { v: '1' } });
 * const watcher = new Watcher(ConfigMap, { namespace: 'ns', transport: sim, clock });
 * sim.setModes({ closeAtOnce: true }); // misbehave; sim.wellBehaved() to stop
 * console.log(sim.requests.map((r) => `${r.kind} ${new URLSearchParams(r.query)}`));
 * ```
 */
export class SimulatedApiServer {
  /** The clock given (or created). */
  readonly clock: SimClock;
  /** Every request, oldest first. */
  readonly requests: SimRequest[] = [];
  /** How watch responses are cut into chunks; may be changed at any time (affects reads from then on). */
  chunking: ChunkPolicy;
  /** Set when the {@link SimulatedApiServerOptions.runawayLimit} was hit: when, and how many requests came at that instant. */
  runaway: { at: number; requests: number } | undefined;
  readonly #history: History;
  readonly #resources = new Map<string, SimResource>();
  readonly #sessions = new Set<WatchSession>();
  readonly #errorFactory: SimErrorFactory;
  readonly #bookmarkIntervalMs: number;
  readonly #defaultTimeoutMs: number;
  readonly #runawayLimit: number;
  readonly #closeLatency: 'sync' | 'turn';
  #modes: SimModes = WELL_BEHAVED;
  #errorsLeft = Number.POSITIVE_INFINITY;
  #instant = { at: Number.NaN, count: 0 };
  #uids = 0;
  #loopTokens = 0;

  constructor(options: SimulatedApiServerOptions = {}) {
    this.clock = options.clock ?? new ManualClock();
    this.chunking = options.chunking ?? {};
    this.#errorFactory = options.errorFactory ?? defaultErrorFactory;
    this.#bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
    this.#defaultTimeoutMs = (options.defaultWatchTimeoutSeconds ?? 1800) * 1000;
    this.#runawayLimit = options.runawayLimit ?? 1000;
    this.#closeLatency = options.closeLatency ?? 'turn';
    this.#history = new History(options.firstResourceVersion ?? 1);
    for (const r of options.resources ?? DEFAULT_SIM_RESOURCES) this.#resources.set(resourceId(r), r);
    this.#history.listen((entry) => {
      for (const s of this.#sessions) if (s.open && !s.body.stalled) s.deliver(entry);
    });
  }

  /** The latest resourceVersion, as a string. */
  get resourceVersion(): string {
    return String(this.#history.resourceVersion);
  }

  /** The oldest resourceVersion still served; older ones answer 410 Gone. */
  get compactedResourceVersion(): string {
    return String(this.#history.compacted);
  }

  /** The current misbehaviour modes. */
  get modes(): SimModes {
    return this.#modes;
  }

  /** Watches whose body the client has not closed (ended ones count until their end is read). */
  get openWatches(): number {
    return [...this.#sessions].filter((s) => s.open).length;
  }

  /** Switches misbehaviour modes; unnamed ones keep their value. `stall: true` also silences open watches. */
  setModes(modes: Partial<SimModes>): void {
    this.#modes = { ...this.#modes, ...modes };
    if ('errors' in modes) this.#errorsLeft = modes.errors?.times ?? Number.POSITIVE_INFINITY;
    if (modes.stall) for (const s of this.#sessions) s.stall();
  }

  /** Switches every misbehaviour off (`goneAs` is kept). Stalled watches stay stalled. */
  wellBehaved(): void {
    this.setModes({ ...WELL_BEHAVED, goneAs: this.#modes.goneAs });
  }

  /** Creates an object (a new uid, the next resourceVersion) and returns a copy of it. Throws if it exists. */
  create(resource: string, object: NewObject): StoredObject {
    const r = this.#resource(resource);
    const { name, namespace } = object.metadata;
    if (r.namespaced !== false && !namespace) throw new Error(`${r.kind} ${name}: metadata.namespace is required`);
    const key = keyOf({ metadata: { name, namespace: r.namespaced === false ? undefined : namespace } });
    if (this.#history.get(resourceId(r), key)) throw new Error(`${r.kind} ${key} already exists`);
    const uid = `00000000-0000-4000-8000-${(++this.#uids).toString(16).padStart(12, '0')}`;
    const stored = newObject(r, object, uid, this.#history.nextResourceVersion(), this.clock.now());
    return structuredClone(this.#history.record(resourceId(r), key, 'ADDED', stored).object);
  }

  /**
   * Updates an object (`key`: `namespace/name`, or `name` when cluster-scoped): `change` is merged
   * into it, or is a function that edits a copy. Identity fields are kept. Returns a copy.
   */
  update(resource: string, key: string, change: ObjectChange): StoredObject {
    const r = this.#resource(resource);
    const next = changedObject(this.#existing(r, key), change, this.#history.nextResourceVersion());
    return structuredClone(this.#history.record(resourceId(r), key, 'MODIFIED', next).object);
  }

  /** Deletes an object; returns its last state, with the deletion's resourceVersion. */
  delete(resource: string, key: string): StoredObject {
    const r = this.#resource(resource);
    const gone = structuredClone(this.#existing(r, key));
    gone.metadata.resourceVersion = String(this.#history.nextResourceVersion());
    return structuredClone(this.#history.record(resourceId(r), key, 'DELETED', gone).object);
  }

  /** A copy of the object under `key`, if it exists. */
  get(resource: string, key: string): StoredObject | undefined {
    const o = this.#history.get(resourceId(this.#resource(resource)), key);
    return o && structuredClone(o);
  }

  /** Copies of the current objects of a resource (in one namespace, or all), sorted by key. */
  objects(resource: string, namespace?: string): StoredObject[] {
    const all = this.#history.at(resourceId(this.#resource(resource)));
    return structuredClone(namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace));
  }

  /** Forgets history up to `resourceVersion` (default: the latest), as etcd compaction: older reads answer 410. */
  compact(resourceVersion?: string | number): void {
    this.#history.compact(resourceVersion === undefined ? this.#history.resourceVersion : Number(resourceVersion));
  }

  /** Ends every open watch with an ERROR event carrying 410 Gone (the watch cache lost them). */
  expireWatches(): void {
    const status = statusOf(410, 'Expired', `too old resource version: ${this.#history.compacted}`);
    for (const s of this.#sessions) if (s.open && !s.body.stalled) s.fail(status);
  }

  /** Ends every open watch cleanly, as a server timeout would. */
  closeWatches(): void {
    for (const s of this.#sessions) if (s.open && !s.body.stalled) s.end();
  }

  /** `WatchTransport.getJson`: answers a LIST. */
  async getJson(path: string, query: URLSearchParams, signal: AbortSignal): Promise<unknown> {
    const req = this.#record('list', path, query);
    const target = await this.#admit(req, path, signal);
    const loop = this.#modes.listLoop;
    const answer =
      loop === undefined
        ? answerList(this.#history, target.resource, target.namespace, query)
        : loopingPage(
            this.#history,
            target.resource,
            target.namespace,
            query,
            loop === 'sameObjects' ? ++this.#loopTokens : undefined,
          );
    if ('error' in answer) throw this.#refuse(req, path, answer.error);
    if (loop !== undefined) req.note = `list loop (${loop})`;
    const { items, metadata } = answer.page;
    req.page = {
      items: items.map((o) => keyOf(o as unknown as StoredObject)),
      ...(metadata.continue !== undefined && { continue: metadata.continue }),
    };
    return answer.page;
  }

  /** `WatchTransport.openStream`: opens a watch; resolves once its 200 response has started. */
  async openStream(path: string, query: URLSearchParams, signal: AbortSignal): Promise<WatchSession['body']> {
    const req = this.#record('watch', path, query);
    const { resource, namespace } = await this.#admit(req, path, signal);
    const parsed = parseWatchQuery(query, namespace, !this.#modes.watchListUnsupported);
    if ('error' in parsed) throw this.#refuse(req, path, parsed.error);
    const q = parsed.query;
    const tooOld = !q.fromNow && q.rv < this.#history.compacted;
    const gone = statusOf(410, 'Expired', `too old resource version: ${q.rv} (${this.#history.compacted})`);
    if ((this.#modes.goneForever || tooOld) && this.#modes.goneAs === 'status') throw this.#refuse(req, path, gone);
    const session = new WatchSession({
      resource,
      filter: q.filter,
      clock: this.clock,
      chunking: () => this.chunking,
      startRv: q.fromNow ? this.#history.resourceVersion : q.rv,
      bookmarks: q.bookmarks,
      bookmarkIntervalMs: this.#bookmarkIntervalMs,
      timeoutMs: q.timeoutMs ?? this.#defaultTimeoutMs,
      latestRv: () => this.#history.resourceVersion,
      closeLatency: this.#closeLatency,
    });
    this.#sessions.add(session);
    const onAbort = (): void => session.body.close(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    session.body.onClose(() => {
      signal.removeEventListener('abort', onAbort);
      this.#sessions.delete(session);
    });

    if (this.#modes.goneForever || tooOld) {
      req.note = 'ERROR 410';
      session.fail(gone);
    } else if (this.#modes.closeAtOnce) {
      req.note = 'closed at once';
      session.end();
    } else if (this.#modes.stall) {
      req.note = 'stalled';
      session.stall();
    } else if (q.fromNow) {
      if (q.initialEvents)
        for (const o of this.#history.at(resourceId(resource))) if (q.filter.matches(o)) session.send('ADDED', o);
      if (q.watchList) session.bookmark(true);
    } else {
      for (const entry of this.#history.after(resourceId(resource), q.rv)) session.deliver(entry);
    }
    return session.body;
  }

  #record(kind: 'list' | 'watch', path: string, query: URLSearchParams): SimRequest {
    const req: SimRequest = { at: this.clock.now(), kind, path, query: Object.fromEntries(query), status: 200 };
    this.requests.push(req);
    return req;
  }

  /** The checks every request passes first: runaway guard, abort, path, error mode. */
  async #admit(req: SimRequest, path: string, signal: AbortSignal): Promise<ParsedPath> {
    const now = this.clock.now();
    if (this.#instant.at !== now) this.#instant = { at: now, count: 0 };
    this.#instant.count += 1;
    if (this.#instant.count > this.#runawayLimit) {
      this.runaway ??= { at: now, requests: this.#instant.count };
      req.status = 0;
      req.note = 'runaway: never answered';
      await new Promise<void>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    if (signal.aborted) {
      req.status = 0;
      req.note = 'aborted';
      throw signal.reason;
    }
    const target = parsePath(path, this.#resources);
    if (!target) throw this.#refuse(req, path, statusOf(404, 'NotFound', `the server could not find the requested resource`));
    const mode = this.#modes.errors;
    const applies = mode !== undefined && (mode.requests === undefined || mode.requests === 'all' || mode.requests === req.kind);
    if (mode && applies && this.#errorsLeft > 0) {
      this.#errorsLeft -= 1;
      const code = mode.status;
      const status = statusOf(code, reasonFor(code), `simulated ${code}`, mode.retryAfterSeconds);
      throw this.#refuse(req, path, status, mode.retryAfterSeconds);
    }
    return target;
  }

  #refuse(req: SimRequest, path: string, status: SimStatus, retryAfterSeconds?: number): Error {
    req.status = status.code;
    return this.#errorFactory(
      status.code,
      status,
      `GET ${path}`,
      retryAfterSeconds === undefined ? null : String(retryAfterSeconds),
    );
  }

  #resource(name: string): SimResource {
    const r = findResource(this.#resources, name);
    if (!r) throw new Error(`unknown resource ${JSON.stringify(name)}; served: ${[...this.#resources.keys()].join(', ')}`);
    return r;
  }

  #existing(r: SimResource, key: string): StoredObject {
    const o = this.#history.get(resourceId(r), key);
    if (!o) throw new Error(`${r.kind} ${key} not found`);
    return o;
  }
}
