// EventRecorder without a cluster: series counting, the bound on the series it remembers, a failing client.
import { describe, expect, it } from 'vitest';
import { EventRecorder } from '../src/index.ts';

/** A client that records each request and answers at once. */
function fakeClient(): { requests: Array<{ method?: string; path: string; body?: unknown }>; request: () => Promise<unknown> } {
  const requests: Array<{ method?: string; path: string; body?: unknown }> = [];
  return {
    requests,
    request(this: void, ...args: unknown[]) {
      requests.push(args[0] as { method?: string; path: string; body?: unknown });
      return Promise.resolve({});
    },
  } as never;
}

const object = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'web', name, uid: name } });

describe('EventRecorder', () => {
  it('remembers at most 4096 series (distinct notes do not grow it without bound); a forgotten one starts anew', async () => {
    const client = fakeClient();
    const recorder = new EventRecorder(client as never, { controller: 'test', seriesIntervalMs: 60_000 });
    const event = (note: string) => ({ type: 'Normal' as const, reason: 'Seen', action: 'Reconcile', note });
    recorder.event(object('first'), event('once'));
    recorder.event(object('first'), event('once')); // a series of 2: its update waits
    for (let i = 0; i < 4096; i++) recorder.event(object('a'), event(`run ${i}`)); // distinct: 4096 new Events
    const posts = () => client.requests.filter((r) => r.method === 'POST').length;
    expect(posts()).toBe(4097);
    // The first series was forgotten for the newer ones: its pending count was sent, and it starts over.
    await new Promise((resolve) => setImmediate(resolve));
    expect(client.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    recorder.event(object('first'), event('once'));
    expect(posts()).toBe(4098);
    // A recent one is still a series.
    recorder.event(object('a'), event('run 4095'));
    expect(posts()).toBe(4098);
    await recorder.flush();
  });

  it('a series seen again stays remembered while newer ones come (least recently seen goes first)', async () => {
    const client = fakeClient();
    const recorder = new EventRecorder(client as never, { controller: 'test', seriesIntervalMs: 60_000 });
    const event = (note: string) => ({ type: 'Normal' as const, reason: 'Seen', action: 'Reconcile', note });
    recorder.event(object('hot'), event('again'));
    for (let i = 0; i < 5000; i++) {
      recorder.event(object('a'), event(`run ${i}`));
      if (i % 1000 === 0) recorder.event(object('hot'), event('again'));
    }
    const hotPosts = client.requests.filter((r) => r.method === 'POST' && (r.body as { note?: string }).note === 'again');
    expect(hotPosts).toHaveLength(1);
    await recorder.flush();
  });
});
