import { HttpMethod, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { KwatchError } from '@kwatch/watch-core';
import { request } from 'undici';

/** A JSON answer: status and parsed body (undefined when there was none). */
export interface JsonAnswer {
  readonly status: number;
  readonly body: Record<string, unknown> | undefined;
}

/** One authenticated JSON request through a KubeConfig (credentials asked for anew each time). */
export async function kubeRequest(
  kc: KubeConfig,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  signal?: AbortSignal,
  accept = 'application/json',
): Promise<JsonAnswer> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KwatchError('INVALID_OPTION', 'The kubeConfig has no current cluster');
  const url = `${cluster.server.replace(/\/+$/, '')}${path}`;
  const ctx = new RequestContext(url, HttpMethod[method]);
  await kc.applySecurityAuthentication(ctx);
  const dispatcher = ctx.getDispatcher();
  const res = await request(url, {
    method,
    headers: { ...ctx.getHeaders(), accept, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    ...(signal ? { signal } : {}),
    ...(dispatcher ? { dispatcher } : {}),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}
