// Breaking the no-PING dead-connection check: watches the server takes for watches, and pulls made side by side.
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { clampWatch, guardReadIdle } from '../src/client/readIdle.ts';

const health = { readIdleMs: 30_000, pingTimeoutMs: 15_000 };

describe('clampWatch', () => {
  it('clamps every query the API server takes for a watch (any first value but 0 or false), and only those', () => {
    // apimachinery's Convert_Slice_string_To_bool: `watch=True`, `watch=yes`, even `watch=` stream a watch.
    for (const watch of ['True', 'TRUE', 'yes', 't', '']) {
      expect(clampWatch(`/api/v1/pods?watch=${watch}`, health)).toBe(`/api/v1/pods?watch=${watch}&timeoutSeconds=30`);
    }
    for (const path of ['/api/v1/pods?watch=0', '/api/v1/pods?watch=False', '/api/v1/pods?watch=false&watch=1']) {
      expect(clampWatch(path, health)).toBe(path);
    }
    // Odd timeouts: none of them may leave a watch longer than readIdle (0 is "the server's default", minutes).
    for (const t of ['0', '-5', 'abc', '1e9', '', '999&timeoutSeconds=10']) {
      expect(clampWatch(`/api/v1/pods?watch=1&timeoutSeconds=${t}`, health)).toBe('/api/v1/pods?watch=1&timeoutSeconds=30');
    }
    expect(clampWatch('/api/v1/pods?watch=1&timeoutSeconds=10&timeoutSeconds=999', health)).toBe(
      '/api/v1/pods?watch=1&timeoutSeconds=10&timeoutSeconds=999', // the server reads the first: 10
    );
  });
});

describe('guardReadIdle', () => {
  it('guards every pull waiting on the connection, not only the first of two made side by side', async () => {
    const stream = new PassThrough();
    const guarded = guardReadIdle(stream, { readIdleMs: 40, pingTimeoutMs: 40 }, 'https://10.0.0.1:6443');
    const it = guarded[Symbol.asyncIterator]();
    const first = it.next();
    const second = it.next(); // queued behind the first: waits on the connection as well
    const settled = second.then(
      () => 'resolved',
      (err: Error & { code?: string }) => err.code,
    );
    setTimeout(() => stream.write(Buffer.from('{"type":"ADDED"}\n')), 20);
    expect((await first).value?.toString()).toBe('{"type":"ADDED"}\n');
    // Nothing more ever comes: the second pull must fail as a dead connection.
    await vi.waitFor(async () => expect(await Promise.race([settled, 'pending'])).toBe('STALLED'), { timeout: 3000 });
    expect(stream.destroyed).toBe(true);
  });
});
