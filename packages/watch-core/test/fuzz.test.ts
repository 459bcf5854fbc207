// fast-check: bad options and odd wire events never escape as anything but a typed kwatch error.
import { ConfigMap, Pod } from '@kwatch/models/v1';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apiErrorFrom, isKwatchError, isMarker, type KwatchError, type StreamBody, Watcher } from '../src/index.ts';

const WATCHER_OPTIONS = [
  'namespace',
  'labelSelector',
  'fieldSelector',
  'resourceVersion',
  'timeoutSeconds',
  'allowWatchBookmarks',
  'kubeConfig',
  'signal',
  'inactivityTimeoutMs',
  'backoff',
  'maxConsecutiveErrors',
  'maxLineBytes',
  'pageSize',
  'watchList',
  'hooks',
  'transport',
  'clock',
];
const STREAM_OPTIONS = ['manageResourceVersion', 'quitOnTimeout', 'signal', 'markers', 'connectLimiter'];

describe('options (fuzzed)', () => {
  it('every watcher option: any value is accepted or refused with INVALID_OPTION naming that option', () => {
    fc.assert(
      fc.property(fc.constantFrom(...WATCHER_OPTIONS), fc.anything(), (key, value) => {
        try {
          new Watcher(Pod, { [key]: value } as never);
        } catch (e) {
          expect(isKwatchError(e), String(e)).toBe(true);
          expect((e as KwatchError).code).toBe('INVALID_OPTION');
          expect((e as KwatchError).message, String(e)).toMatch(
            new RegExp(`^(Expected \`${key}|Unknown options? .* in \`${key})`),
          );
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('every stream option likewise', () => {
    const watcher = new Watcher(Pod);
    fc.assert(
      fc.property(fc.constantFrom(...STREAM_OPTIONS), fc.anything(), (key, value) => {
        try {
          void watcher.stream({ [key]: value } as never);
        } catch (e) {
          expect((e as KwatchError).code).toBe('INVALID_OPTION');
          expect((e as KwatchError).message.startsWith(`Expected \`${key}`)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('an unknown option, or an unknown hook, is refused by name (a typo is not silently ignored)', () => {
    expect(() => new Watcher(Pod, { timeoutSecond: 5 } as never)).toThrow('Unknown option `timeoutSecond`');
    expect(() => new Watcher(Pod, { hooks: { conected: () => {} } } as never)).toThrow('Unknown option `conected` in `hooks`');
    expect(() => new Watcher(Pod).stream({ quitOnTimout: true } as never)).toThrow('Unknown option `quitOnTimout`');
  });
});

describe('wire events (fuzzed)', () => {
  const meta = fc.option(
    fc.record(
      {
        name: fc.oneof(fc.string(), fc.integer()),
        namespace: fc.string(),
        uid: fc.string(),
        resourceVersion: fc.oneof(fc.constant(''), fc.constant('abc'), fc.integer().map(String), fc.integer()),
        annotations: fc.dictionary(fc.string(), fc.string()),
      },
      { requiredKeys: [] },
    ),
    { nil: undefined },
  );
  const event = fc.record({
    type: fc.oneof(fc.constantFrom('ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'), fc.string()),
    object: fc.record(
      {
        kind: fc.oneof(fc.constant('ConfigMap'), fc.string()),
        metadata: meta,
        code: fc.option(fc.integer(), { nil: undefined }),
      },
      { requiredKeys: [] },
    ),
  });
  const line = fc.oneof({ weight: 8, arbitrary: event.map((e) => JSON.stringify(e)) }, { weight: 1, arbitrary: fc.string() });

  it('a stream of arbitrary lines yields events or ends with a typed error, never anything else', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 25 }), async (lines) => {
        let served = false;
        const transport = {
          getJson: async () => ({}),
          openStream: async (): Promise<StreamBody> => {
            if (served) throw apiErrorFrom(404, undefined, 'GET x'); // one stream only, then a fatal error
            served = true;
            const body = Buffer.from(lines.map((l) => `${l}\n`).join(''));
            return {
              close: () => {},
              async *[Symbol.asyncIterator]() {
                yield body;
              },
            };
          },
        };
        const reported: KwatchError[] = [];
        const watcher = new Watcher(ConfigMap, {
          transport,
          resourceVersion: '1',
          backoff: { initialMs: 1, maxMs: 2 },
          hooks: { error: (e) => reported.push(e) },
        });
        try {
          for await (const e of watcher.stream({ markers: true })) expect(isMarker(e) || typeof e.type === 'string').toBe(true);
        } catch (e) {
          expect(isKwatchError(e), String(e)).toBe(true);
        }
        for (const e of reported) expect(isKwatchError(e)).toBe(true);
      }),
      { numRuns: 300 },
    );
    // Most runs end with a watch closed at once (EARLY_CLOSE) or a failure: each waits a backoff of at least 10 ms.
  }, 30_000);
});
