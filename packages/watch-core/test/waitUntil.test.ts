// waitUntil's time limit: `timeoutMs` (the unit in the name), the older `timeout` still read as it.
import { ConfigMap } from '@kwatch/models/v1';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../src/index.ts';

const hang = (_p: string, _q: URLSearchParams, signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
const transport = { getJson: hang, openStream: hang };

describe('waitUntil', () => {
  it.each([['timeoutMs'], ['timeout']])('rejects with TIMEOUT after %s', async (name) => {
    const t0 = Date.now();
    await expect(waitUntil(ConfigMap, () => true, { transport, [name]: 50 })).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: 'No ConfigMap matched within 50 ms',
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
  });

  it.each([
    [{ timeoutMs: 0 }, 'Expected `timeoutMs` to be a positive number of milliseconds, got 0'],
    [{ timeout: -1 }, 'Expected `timeout` to be a positive number of milliseconds, got -1'],
    [
      { timeoutMs: 5, timeout: 5 },
      'Expected `timeout` to be left out when `timeoutMs` is given (it is its deprecated name), got 5',
    ],
  ])('%o is an INVALID_OPTION naming it', async (options, message) => {
    await expect(waitUntil(ConfigMap, () => true, { transport, ...options })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message,
    });
  });
});
