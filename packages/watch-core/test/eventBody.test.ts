// The event-driven body reader: what arrived between pulls comes as one chunk, bounded, ended by what the body did.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_BODY_HIGH_WATER_BYTES, type GuardedBody, readByEvents } from '../src/client/eventBody.ts';

const text = (chunk: Uint8Array | undefined) => Buffer.from(chunk ?? new Uint8Array()).toString('utf8');
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('readByEvents', () => {
  it('hands out everything that arrived since the last pull as one chunk, in order', async () => {
    const src = new PassThrough();
    const it = readByEvents(src)[Symbol.asyncIterator]();
    src.write('a\n');
    src.write('b\n');
    src.write('c');
    await tick();
    expect(text((await it.next()).value)).toBe('a\nb\nc');
    const pending = it.next();
    src.write('d\n');
    expect(text((await pending).value)).toBe('d\n');
    src.end();
    expect((await it.next()).done).toBe(true);
  });

  it('pauses the body past the high-water mark until the next pull, losing nothing', async () => {
    const src = new PassThrough({ highWaterMark: 1024 });
    const it = readByEvents(src)[Symbol.asyncIterator]();
    const piece = Buffer.alloc(64 * 1024, 'x');
    let accepted = 0;
    // Write until the body pushes back (write returns false once it is paused and its buffer is full).
    while (src.write(piece)) {
      accepted += piece.length;
      await tick();
      if (accepted > 4 * EVENT_BODY_HIGH_WATER_BYTES) break;
    }
    accepted += piece.length;
    expect(accepted).toBeLessThan(2 * EVENT_BODY_HIGH_WATER_BYTES);
    expect(src.isPaused()).toBe(true);
    let got = (await it.next()).value?.byteLength ?? 0;
    expect(src.isPaused()).toBe(false);
    src.end();
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      got += r.value.byteLength;
    }
    expect(got).toBe(accepted);
  });

  it('delivers the bytes that came before an error, then throws the error', async () => {
    const src = new PassThrough();
    const it = readByEvents(src)[Symbol.asyncIterator]();
    src.write('partial');
    await tick();
    src.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    await tick();
    expect(text((await it.next()).value)).toBe('partial');
    await expect(it.next()).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('is a premature close when the body closes before its end, and a clean end when it closed after it', async () => {
    const cut = new PassThrough();
    const a = readByEvents(cut)[Symbol.asyncIterator]();
    const pending = a.next();
    cut.destroy();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });

    // An HTTP/2 stream may emit 'close' with its end already read: the end decides, not the order of the events.
    const ended = Readable.from([Buffer.from('x\n')], { objectMode: false });
    const b = readByEvents(ended)[Symbol.asyncIterator]();
    await new Promise((resolve) => ended.once('close', resolve));
    expect(text((await b.next()).value)).toBe('x\n');
    expect((await b.next()).done).toBe(true);
  });

  it('destroy(reason) drops what was not pulled and rejects the pending pull with the reason; return() ends the body', async () => {
    const src = new PassThrough();
    const body = readByEvents(src);
    const it = body[Symbol.asyncIterator]();
    src.write('not pulled');
    await tick();
    const stalled = new Error('stalled');
    body.destroy(stalled);
    await expect(it.next()).rejects.toBe(stalled);
    expect(src.destroyed).toBe(true);

    const other = new PassThrough();
    const it2 = readByEvents(other)[Symbol.asyncIterator]();
    const waiting = it2.next();
    await it2.return?.();
    expect(other.destroyed).toBe(true);
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('an HTTP/2 stream ended by a cut connection is a NETWORK_ERROR after its bytes; one the server ended is done', async () => {
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      stream.respond({ ':status': 200 });
      stream.write('line1\nline2\n');
      if (headers[':path'] === '/clean') stream.end('line3\n');
      else setTimeout(() => stream.session?.destroy(), 30); // the connection goes: Node ends the client's stream
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const read = async (path: string) => {
      const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      session.on('error', () => {});
      const it = readByEvents(session.request({ ':path': path }))[Symbol.asyncIterator]();
      let got = '';
      try {
        for (;;) {
          const r = await it.next();
          if (r.done) return { got, end: 'done' };
          got += text(r.value);
        }
      } catch (err) {
        return { got, end: (err as { code?: string }).code };
      } finally {
        session.destroy();
      }
    };
    try {
      expect(await read('/clean')).toEqual({ got: 'line1\nline2\nline3\n', end: 'done' });
      expect(await read('/cut')).toEqual({ got: 'line1\nline2\n', end: 'NETWORK_ERROR' });
    } finally {
      server.close();
    }
  });

  it('returns a body without stream events as it is', () => {
    const plain: GuardedBody = { [Symbol.asyncIterator]: () => [][Symbol.iterator]() as never, destroy() {} };
    expect(readByEvents(plain)).toBe(plain);
  });

  it('property: any split of a byte stream, any pull timing, gives back exactly the bytes written', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.boolean()), { maxLength: 40 }),
        fc.constantFrom('end', 'error', 'destroy'),
        async (writes, ending) => {
          const src = new PassThrough();
          const it = readByEvents(src)[Symbol.asyncIterator]();
          const received: Buffer[] = [];
          let outcome: 'done' | 'error' | undefined;
          const pump = (async () => {
            try {
              for (;;) {
                const r = await it.next();
                if (r.done) {
                  outcome = 'done';
                  return;
                }
                expect(r.value.byteLength).toBeGreaterThan(0);
                received.push(Buffer.from(r.value));
              }
            } catch {
              outcome = 'error';
            }
          })();
          for (const [bytes, wait] of writes) {
            src.write(Buffer.from(bytes));
            if (wait) await tick();
          }
          await tick();
          await tick();
          const sent = Buffer.concat(writes.map(([b]) => Buffer.from(b)));
          if (ending === 'end') src.end();
          else if (ending === 'error') src.destroy(new Error('cut'));
          else src.destroy();
          await pump;
          // Everything written before the end was handed out, in order; the end is reported as what it was.
          expect(Buffer.concat(received).equals(sent)).toBe(true);
          expect(outcome).toBe(ending === 'end' ? 'done' : 'error');
        },
      ),
      { numRuns: 200 },
    );
  });
});
