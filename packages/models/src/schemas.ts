// zod schemas of what kwatch reads off the wire: object metadata, a Status, a watch event envelope.
import { z } from 'zod';

/**
 * The parts of object metadata kwatch relies on (names, uid, resourceVersion); every
 * other field is kept as it came.
 *
 * @example
 * ```ts
 * const CronTabSchema = z.looseObject({ metadata: ObjectMetaSchema, spec: z.object({ cronSpec: z.string() }) });
 * ```
 */
export const ObjectMetaSchema = z.looseObject({
  name: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/**
 * A `meta.k8s.io/v1` Status: what the server sends for errors, in an ERROR watch event or
 * as an HTTP error body.
 *
 * @example
 * ```ts
 * const status = StatusSchema.parse(event.object); // { code: 410, reason: 'Expired', ... }
 * ```
 */
export const StatusSchema = z.looseObject({
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
});
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
export const WatchEventEnvelopeSchema = z.object({
  type: z.string().min(1),
  object: z.looseObject({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    metadata: ObjectMetaSchema.optional(),
  }),
});
/** See {@link WatchEventEnvelopeSchema}. */
export type WatchEventEnvelope = z.infer<typeof WatchEventEnvelopeSchema>;
