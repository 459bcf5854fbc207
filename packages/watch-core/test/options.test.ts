import { ConfigMap, Node, Pod } from '@kwatch/models/v1';
import { describe, expect, it } from 'vitest';
import { KwatchError, Watcher } from '../src/index.ts';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KwatchError);
    return (e as Error).message;
  }
  throw new Error('expected a throw');
}

describe('every bad option is a typed error naming the option and what was expected', () => {
  it.each([
    [{ timeoutSeconds: -1 }, 'Expected `timeoutSeconds` to be a positive integer, or 0 or null for no timeout, got -1'],
    [{ timeoutSeconds: 1.5 }, 'Expected `timeoutSeconds` to be a positive integer, or 0 or null for no timeout, got 1.5'],
    [{ timeoutSeconds: '5' }, 'Expected `timeoutSeconds` to be a positive integer, or 0 or null for no timeout, got "5"'],
    [{ resourceVersion: '' }, 'Expected `resourceVersion` to be a non-empty string, got ""'],
    [{ labelSelector: 5 }, 'Expected `labelSelector` to be a string, got 5'],
    [{ allowWatchBookmarks: 'yes' }, 'Expected `allowWatchBookmarks` to be true or false, got "yes"'],
    [{ kubeConfig: {} }, 'Expected `kubeConfig` to be a KubeConfig from @kubernetes/client-node, got an object (Object)'],
    [{ signal: 'x' }, 'Expected `signal` to be an AbortSignal, got "x"'],
    [{ watchList: 'maybe' }, 'Expected `watchList` to be \'auto\', true or false, got "maybe"'],
    [{ backoff: { initialMs: 0 } }, 'Expected `backoff.initialMs` to be a positive number of milliseconds, got 0'],
    [{ hooks: { connected: 1 } }, 'Expected `hooks.connected` to be a function, got 1'],
    [{ maxConsecutiveErrors: 0 }, 'Expected `maxConsecutiveErrors` to be a positive number, or Infinity, got 0'],
    [{ maxConsecutiveErrors: Number.NaN }, 'Expected `maxConsecutiveErrors` to be a positive number, or Infinity, got NaN'],
    [{ maxConsecutiveErrors: '3' }, 'Expected `maxConsecutiveErrors` to be a positive number, or Infinity, got "3"'],
  ])('%o', (options, expected) => {
    expect(message(() => new Watcher(Pod, options as never))).toBe(expected);
  });

  it('takes maxConsecutiveErrors: Infinity, its own default ("never give up"), as given', () => {
    expect(() => new Watcher(Pod, { maxConsecutiveErrors: Number.POSITIVE_INFINITY })).not.toThrow();
    expect(() => new Watcher(Pod, { maxConsecutiveErrors: 3 })).not.toThrow();
  });

  it('checks stream options too', () => {
    const w = new Watcher(Pod, { kubeConfig: undefined as never });
    expect(message(() => w.stream({ quitOnTimeout: 1 as never }))).toBe('Expected `quitOnTimeout` to be true or false, got 1');
    expect(message(() => w.stream('x' as never))).toBe('Expected the stream options to be an object, got "x"');
  });

  it('checks the kind and namespace at run time with Hikaru words', () => {
    expect(message(() => new Watcher(Node as never, { namespace: 'a' as never }))).toBe('Node has no namespaced watcher support');
    expect(message(() => new Watcher(42 as never))).toMatch(/^Expected a Kubernetes kind/);
  });

  it('updateResourceVersion refuses an empty value (Hikaru: RuntimeError on None)', () => {
    const w = new Watcher(ConfigMap);
    expect(message(() => w.updateResourceVersion(undefined as never))).toBe(
      'Expected `resourceVersion` to be a non-empty string, got undefined',
    );
    w.updateResourceVersion('42');
    expect(w.currentResourceVersion()).toBe('42');
  });

  it('a second concurrent stream of one watcher is refused', async () => {
    const hang = (_p: string, _q: URLSearchParams, signal: AbortSignal) =>
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    const w = new Watcher(ConfigMap, { transport: { getJson: hang, openStream: hang } });
    const first = w.stream();
    void first.next();
    await expect(w.stream().next()).rejects.toMatchObject({ code: 'ALREADY_STREAMING' });
    w.stop();
    await first.return(undefined);
  });
});

describe('a kubeconfig that cannot prepare requests', () => {
  it('fails the stream at once with CREDENTIALS_ERROR instead of retrying forever', async () => {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'plain', server: 'http://127.0.0.1:9' }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'c', cluster: 'plain', user: 'u' }],
      currentContext: 'c',
    });
    const stream = new Watcher(ConfigMap, { kubeConfig: kc }).stream();
    await expect(stream.next()).rejects.toMatchObject({
      code: 'CREDENTIALS_ERROR',
      retryable: false,
      message: expect.stringContaining('HTTP protocol is not allowed when skipTLSVerify is not set or false'),
    });
  });
});
