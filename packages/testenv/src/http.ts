// One small HTTPS request to the apiserver, read whole, without any client library.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** A response read whole: status code and body text. */
export interface SimpleResponse {
  readonly status: number;
  readonly body: string;
}

/** TLS material of the admin user, to talk to the apiserver without any client library. */
export interface TlsIdentity {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** Sends one small request and reads the whole answer; the timeout covers the whole exchange. */
export function simpleRequest(
  url: string,
  options: { method?: string; body?: string; tls?: TlsIdentity; timeoutMs?: number } = {},
): Promise<SimpleResponse> {
  const target = new URL(url);
  const isHttps = target.protocol === 'https:';
  const tls =
    isHttps && options.tls
      ? { ca: readFileSync(options.tls.caFile), cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) }
      : {};
  const send = isHttps ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: options.method ?? 'GET',
        headers: options.body === undefined ? {} : { 'content-type': 'application/json' },
        timeout: options.timeoutMs ?? 5_000,
        agent: false,
        ...tls,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${target.origin}${target.pathname} timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
