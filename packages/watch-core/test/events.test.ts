// The event model at run time: WatchEvent and its Hikaru aliases, tombstone events, and isMarker.
import { describe, expect, it } from 'vitest';
import { errorFor } from '../src/internal/errors.ts';
import { isMarker, tombstoneEvent, WatchEvent, type WatchMarker } from '../src/internal/events.ts';

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: 'ns', uid: 'u1', resourceVersion: '7' } };

describe('WatchEvent', () => {
  it('carries type and object, is not synthetic nor a tombstone by default, and has Hikaru’s etype and obj', () => {
    const e = new WatchEvent('ADDED', pod);
    expect(e).toMatchObject({ type: 'ADDED', object: pod, synthetic: false, tombstone: false });
    expect([e.etype, e.obj]).toEqual(['ADDED', pod]);
    expect(e.obj).toBe(pod);
    expect(e).toBeInstanceOf(WatchEvent);
    expect(new WatchEvent('MODIFIED', pod, true).synthetic).toBe(true);
  });

  it('a tombstone event is a synthetic DELETED whose object is the tombstone', () => {
    const tomb = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: 'ns', uid: 'u1', resourceVersion: '7' } };
    const e = tombstoneEvent(tomb);
    expect(e).toMatchObject({ type: 'DELETED', object: tomb, synthetic: true, tombstone: true });
    expect([e.etype, e.obj]).toEqual(['DELETED', tomb]);
    expect(e).toBeInstanceOf(WatchEvent);
  });
});

describe('isMarker', () => {
  it('is true for SYNCED and RESYNC, false for every event', () => {
    const synced: WatchMarker = { type: 'SYNCED', initial: true, resourceVersion: '9' };
    const resync: WatchMarker = { type: 'RESYNC', reason: errorFor('GONE', 'gone', { httpStatus: 410 }) };
    expect([isMarker(synced), isMarker(resync)]).toEqual([true, true]);
    expect(isMarker(new WatchEvent('DELETED', pod))).toBe(false);
    expect(isMarker(tombstoneEvent(pod))).toBe(false);
  });
});
