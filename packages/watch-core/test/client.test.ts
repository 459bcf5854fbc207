// KubeClient's options: one declaration, validated and defaulted (DEFAULTS.client) in resolveKubeClientOptions.
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { resolveKubeClientOptions } from '../src/client/options.ts';
import { DEFAULTS, KubeClient, KwatchError } from '../src/index.ts';

describe('KubeClient options', () => {
  it.each([
    [{ readIdleMs: 0 }, 'Expected `readIdleMs` to be a positive number of milliseconds, got 0'],
    [
      { pingTimeoutMs: Number.POSITIVE_INFINITY },
      'Expected `pingTimeoutMs` to be a positive number of milliseconds, got Infinity',
    ],
    [{ pingTimeoutMs: '15s' }, 'Expected `pingTimeoutMs` to be a positive number of milliseconds, got "15s"'],
    [{ http2: 1 }, 'Expected `http2` to be true or false, got 1'],
    [
      { kubeConfig: { server: 'https://x' } },
      'Expected `kubeConfig` to be a KubeConfig from @kubernetes/client-node or a Kubeconfig from readKubeconfig(), got an object (Object)',
    ],
    [{ pingTimeout: 5 }, 'Unknown option `pingTimeout`'],
    ['x', 'Expected the KubeClient options to be an object, got "x"'],
  ])('%o is an INVALID_OPTION naming it', (options, message) => {
    let error: unknown;
    try {
      new KubeClient(options as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KwatchError);
    expect(error).toMatchObject({ code: 'INVALID_OPTION', message });
  });

  it("applies DEFAULTS.client: HTTP/2 and client-go's health check", () => {
    expect(DEFAULTS.client).toEqual({ http2: true, readIdleMs: 30_000, pingTimeoutMs: 15_000 });
    expect(resolveKubeClientOptions(undefined)).toEqual({
      kubeConfig: undefined,
      http2: true,
      health: { readIdleMs: 30_000, pingTimeoutMs: 15_000 },
    });
    expect(new KubeClient().http2Health).toEqual({ readIdleMs: 30_000, pingTimeoutMs: 15_000 });
    expect(resolveKubeClientOptions({ http2: false, readIdleMs: 1000 })).toMatchObject({
      http2: false,
      health: { readIdleMs: 1000, pingTimeoutMs: 15_000 },
    });
  });

  it('takes a client-node KubeConfig, or none (undefined stands for not given)', () => {
    const kc = new KubeConfig();
    expect(resolveKubeClientOptions({ kubeConfig: kc }).kubeConfig).toBe(kc);
    expect(() => new KubeClient({ kubeConfig: undefined, http2: undefined })).not.toThrow();
  });
});
