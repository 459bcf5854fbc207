// zod schemas of what kwatch reads off the wire (object metadata, a Status, a watch event), built on first use.
import type { z } from 'zod';
import { lazySchema } from './zod.ts';

/**
 * The parts of object metadata kwatch relies on (names, uid, resourceVersion); every
 * other field is kept as it came.
 *
 * @example
 * ```ts
 * const CronTabSchema = z.looseObject({ metadata: ObjectMetaSchema, spec: z.object({ cronSpec: z.string() }) });
 * ```
 */
export const ObjectMetaSchema = lazySchema((z) =>
  z.looseObject({
    name: z.string().optional(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    generation: z.number().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
);

/**
 * A `meta.k8s.io/v1` Status: what the server sends for errors, in an ERROR watch event or
 * as an HTTP error body.
 *
 * @example
 * ```ts
 * const status = StatusSchema.parse(event.object); // { code: 410, reason: 'Expired', ... }
 * ```
 */
export const StatusSchema = lazySchema((z) =>
  z.looseObject({
    kind: z.literal('Status'),
    apiVersion: z.string().optional(),
    status: z.string().optional(),
    message: z.string().optional(),
    reason: z.string().optional(),
    code: z.number().int().optional(),
    details: z
      .looseObject({
        name: z.string().optional(),
        kind: z.string().optional(),
        retryAfterSeconds: z.number().optional(),
        causes: z.array(z.looseObject({ reason: z.string().optional(), message: z.string().optional() })).optional(),
      })
      .optional(),
  }),
);
/** See {@link StatusSchema}. */
export type Status = z.infer<typeof StatusSchema>;

/**
 * One line of a watch stream: `{"type": ..., "object": {...}}`. Unknown types are kept
 * (the watcher reports them as errors rather than guessing).
 *
 * @example
 * ```ts
 * const envelope = WatchEventEnvelopeSchema.parse(JSON.parse(line));
 * ```
 */
export const WatchEventEnvelopeSchema = lazySchema((z) =>
  z.object({
    type: z.string().min(1),
    object: z.looseObject({
      apiVersion: z.string().optional(),
      kind: z.string().optional(),
      metadata: ObjectMetaSchema.optional(),
    }),
  }),
);
/** See {@link WatchEventEnvelopeSchema}. */
export type WatchEventEnvelope = z.infer<typeof WatchEventEnvelopeSchema>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optional = (v: unknown, type: 'string' | 'number') =>
  v === undefined || (typeof v === type && (type === 'string' || Number.isFinite(v)));

/**
 * True when `value` is what {@link StatusSchema} accepts — checked without zod (the watcher reads a Status off every
 * ERROR event and error response, and should not load zod for it).
 *
 * @example
 * ```ts
 * if (isStatus(event.object)) console.log(event.object.code, event.object.reason);
 * ```
 */
export function isStatus(value: unknown): value is Status {
  if (!isObject(value) || value.kind !== 'Status') return false;
  const { apiVersion, status, message, reason, code, details } = value;
  if (![apiVersion, status, message, reason].every((v) => optional(v, 'string'))) return false;
  if (code !== undefined && !Number.isSafeInteger(code)) return false;
  if (details === undefined) return true;
  if (!isObject(details)) return false;
  const { name, kind, retryAfterSeconds, causes } = details;
  if (!optional(name, 'string') || !optional(kind, 'string') || !optional(retryAfterSeconds, 'number')) return false;
  if (causes === undefined) return true;
  if (!Array.isArray(causes)) return false;
  for (let i = 0; i < causes.length; i++) {
    const cause: unknown = causes[i];
    if (!isObject(cause) || !optional(cause.reason, 'string') || !optional(cause.message, 'string')) return false;
  }
  return true;
}
