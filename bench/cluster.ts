/**
 * Writes for the benchmarks that run on the real control plane: bulk creates and updates of
 * ConfigMaps over a keep-alive undici pool with the admin's client certificate.
 */
import { readFileSync } from 'node:fs';
import type { ControlPlane } from '@kwatch/testenv';
import { Pool } from 'undici';

/** A ConfigMap's data: ~1 KB, as a small application config. */
export function configData(i: number, version: number): Record<string, string> {
  return {
    'app.properties': `name=app-${i}\nversion=${version}\n${'feature.flag=enabled\n'.repeat(40)}`,
    version: String(version),
  };
}

export class Writer {
  readonly #pool: Pool;

  constructor(cp: ControlPlane, connections = 8) {
    const { tls } = cp.state;
    this.#pool = new Pool(cp.server, {
      connections,
      pipelining: 1,
      connect: { ca: readFileSync(tls.caFile), cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
    });
  }

  async send(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await this.#pool.request({
      method,
      path,
      headers: {
        'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
        accept: 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`);
    return JSON.parse(text) as Record<string, unknown>;
  }

  /** Runs `count` jobs with at most `concurrency` in flight. */
  async many(count: number, concurrency: number, job: (i: number) => Promise<unknown>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) await job(next++);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  }

  createNamespace(name: string): Promise<unknown> {
    return this.send('POST', '/api/v1/namespaces', { metadata: { name } });
  }

  createConfigMap(namespace: string, i: number): Promise<unknown> {
    return this.send('POST', `/api/v1/namespaces/${namespace}/configmaps`, {
      metadata: { name: `cm-${i}`, labels: { app: `app-${i % 10}` } },
      data: configData(i, 0),
    });
  }

  updateConfigMap(namespace: string, i: number, version: number): Promise<Record<string, unknown>> {
    return this.send('PATCH', `/api/v1/namespaces/${namespace}/configmaps/cm-${i}`, { data: configData(i, version) });
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
