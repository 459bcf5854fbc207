// Breaking the event-driven body reader: wake-ups at awkward moments, the high-water mark, ends and errors told apart,
// real HTTP/1.1 and HTTP/2 bodies on loopback, and the read-idle guard that sits on top of it.
import http, { type IncomingMessage } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { EVENT_BODY_HIGH_WATER_BYTES, readByEvents } from '../src/client/eventBody.ts';
import { guardReadIdle } from '../src/client/readIdle.ts';

const text = (chunk: Uint8Array | undefined) => Buffer.from(chunk ?? new Uint8Array()).toString('utf8');
const tick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a promise did within `ms`: its value, its error, or 'pending' (a hang). */
async function within<T>(p: Promise<T>, ms = 500): Promise<{ value: T } | { error: unknown } | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  try {
    return await Promise.race([
      p.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Pulls until the end; the bytes, and how it ended. */
async function drain(it: AsyncIterator<Uint8Array>): Promise<{ bytes: Buffer; end: 'done' | Error }> {
  const got: Buffer[] = [];
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) return { bytes: Buffer.concat(got), end: 'done' };
      got.push(Buffer.from(r.value));
    }
  } catch (err) {
    return { bytes: Buffer.concat(got), end: err as Error };
  }
}

/** Drains `it` within `ms`: the bytes and how it ended. Pending past `ms` fails the test. */
async function drainWithin(it: AsyncIterator<Uint8Array>, ms = 500): Promise<{ bytes: Buffer; end: 'done' | Error }> {
  const out = await within(drain(it), ms);
  expect(out).not.toBe('pending');
  if (out === 'pending' || !('value' in out)) throw new Error(`the body did not settle within ${ms} ms`);
  return out.value;
}

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

describe('readByEvents: wake-ups', () => {
  it('a pull waiting when data, end, error or destroy arrive is always woken (each at the moment the pull waits)', async () => {
    for (const what of ['data', 'end', 'error', 'destroy', 'close'] as const) {
      const src = new PassThrough();
      const body = readByEvents(src);
      const it = body[Symbol.asyncIterator]();
      const pending = it.next();
      if (what === 'data') src.write('x');
      else if (what === 'end') src.end();
      else if (what === 'error') src.destroy(new Error('cut'));
      else if (what === 'destroy') body.destroy(new Error('reason'));
      else src.destroy();
      const r = await within(pending);
      expect(r, what).not.toBe('pending');
      if (what === 'data') expect(r).toEqual({ value: { done: false, value: Buffer.from('x') } });
      else if (what === 'end') expect(r).toEqual({ value: { done: true, value: undefined } });
      else if (what === 'close') expect(r).toMatchObject({ error: { code: 'ERR_STREAM_PREMATURE_CLOSE' } });
      else expect(r).toMatchObject({ error: { message: what === 'error' ? 'cut' : 'reason' } });
    }
  });

  it('two pulls made at once both settle, in call order, with nothing lost or handed out twice', async () => {
    const src = new PassThrough();
    const it = readByEvents(src)[Symbol.asyncIterator]();
    const a = it.next();
    const b = it.next();
    const c = it.next();
    src.write('one');
    await tick();
    src.write('two');
    await tick();
    src.end();
    const [ra, rb, rc] = await Promise.all([within(a), within(b), within(c)]);
    expect(ra).toEqual({ value: { done: false, value: Buffer.from('one') } });
    expect(rb).toEqual({ value: { done: false, value: Buffer.from('two') } });
    expect(rc).toEqual({ value: { done: true, value: undefined } });
  });

  // Found by breaking it (fixed: pulls wait in a queue served in call order): a pull made while an earlier one had been
  // woken but had not run yet took the bytes at once, and the earlier one then waited for later bytes — bytes reordered
  // for a consumer awaiting pulls in order (Promise.all, or guardReadIdle passing two pulls through).
  it('a pull made while an earlier one is being woken does not overtake it (bytes stay in call order)', async () => {
    const src = new PassThrough();
    const it = readByEvents(src)[Symbol.asyncIterator]();
    const first = it.next();
    src.write('1'); // 'data' is emitted at once: the first pull is woken, not yet resumed
    const second = it.next(); // made in the same turn: finds '1' there
    src.write('2');
    await tick();
    src.end();
    const [a, b] = await Promise.all([within(first), within(second)]);
    expect([a, b]).toEqual([
      { value: { done: false, value: Buffer.from('1') } },
      { value: { done: false, value: Buffer.from('2') } },
    ]);
  });

  it('two pulls waiting when the body fails both reject (neither is left hanging)', async () => {
    const src = new PassThrough();
    const it = readByEvents(src)[Symbol.asyncIterator]();
    const a = within(it.next());
    const b = within(it.next());
    src.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    expect(await a).toMatchObject({ error: { code: 'ECONNRESET' } });
    expect(await b).toMatchObject({ error: { code: 'ECONNRESET' } });
  });

  it('next() after return() settles at once (an error, not a hang); after a clean end it stays done', async () => {
    const src = new PassThrough();
    const it = readByEvents(src)[Symbol.asyncIterator]();
    await it.return?.();
    expect(src.destroyed).toBe(true);
    expect(await within(it.next())).toMatchObject({ error: { code: 'ERR_STREAM_PREMATURE_CLOSE' } });

    const ended = new PassThrough();
    const it2 = readByEvents(ended)[Symbol.asyncIterator]();
    ended.end('x');
    expect(text((await it2.next()).value)).toBe('x');
    expect((await it2.next()).done).toBe(true);
    await it2.return?.();
    expect(await within(it2.next())).toEqual({ value: { done: true, value: undefined } });
  });

  it('an error is thrown again on every later pull (a retry loop is never told it ended cleanly)', async () => {
    const src = new PassThrough();
    const it = readByEvents(src)[Symbol.asyncIterator]();
    src.destroy(new Error('cut'));
    await expect(it.next()).rejects.toThrow('cut');
    await expect(it.next()).rejects.toThrow('cut');
  });

  it('destroy(reason) is reported as the reason even when the body then emits its own error', async () => {
    const src = new PassThrough();
    const body = readByEvents(src);
    const it = body[Symbol.asyncIterator]();
    const pending = it.next();
    const reason = new Error('stalled');
    body.destroy(reason);
    await expect(pending).rejects.toBe(reason);
    await tick();
    await expect(it.next()).rejects.toBe(reason);
    // The Readable's own 'error' (the reason, emitted later) has a listener: no unhandled 'error'.
    expect(src.listenerCount('error')).toBeGreaterThan(0);
  });

  it('zero-byte chunks never end or wake a pull with an empty chunk', async () => {
    const src = new Readable({ read() {} });
    const it = readByEvents(src)[Symbol.asyncIterator]();
    const pending = it.next();
    src.push(Buffer.alloc(0));
    src.push(new Uint8Array(0));
    expect(await within(pending, 50)).toBe('pending');
    src.push('ab');
    expect(await within(pending)).toEqual({ value: { done: false, value: Buffer.from('ab') } });
    src.push(Buffer.alloc(0));
    src.push(null);
    expect(await within(it.next())).toEqual({ value: { done: true, value: undefined } });
  });

  it('UTF-8 decoding (setEncoding("utf8")) keeps multi-byte characters split across packets whole', async () => {
    const src = new PassThrough();
    src.setEncoding('utf8');
    const it = readByEvents(src)[Symbol.asyncIterator]();
    const bytes = Buffer.from('é€😀\n', 'utf8');
    for (const b of bytes) {
      src.write(Buffer.from([b]));
      await tick();
    }
    src.end();
    const { bytes: got, end } = await drain(it);
    expect(end).toBe('done');
    expect(got.equals(bytes)).toBe(true);
  });

  // Found by breaking it (fixed): a string chunk was turned back into bytes as UTF-8 whatever the body's encoding, so
  // a body with setEncoding('latin1' | 'hex' | 'base64' | 'utf16le') gave other bytes than it received.
  it('a string chunk is turned back into the bytes received, whatever encoding the body was set to', async () => {
    const src = new PassThrough();
    src.setEncoding('latin1');
    const it = readByEvents(src)[Symbol.asyncIterator]();
    src.end(Buffer.from([0xff, 0x00, 0x80, 0x0a]));
    const { bytes, end } = await drain(it);
    expect(end).toBe('done');
    expect([...bytes]).toEqual([0xff, 0x00, 0x80, 0x0a]);
  });
});

describe('readByEvents: the end, errors, destroy', () => {
  it('an error after the end does not turn a clean end into an error, nor does a close after it', async () => {
    const src = new PassThrough();
    const it = readByEvents(src)[Symbol.asyncIterator]();
    src.end('all\n');
    expect(text((await it.next()).value)).toBe('all\n');
    expect((await it.next()).done).toBe(true);
    src.emit('error', new Error('late')); // a listener is there: no crash
    expect((await it.next()).done).toBe(true);
  });

  it('bytes that arrived before a close-before-end come out first, then the premature close', async () => {
    const src = new PassThrough();
    const it = readByEvents(src)[Symbol.asyncIterator]();
    src.write('half a li');
    await tick();
    src.destroy();
    await tick();
    expect(text((await it.next()).value)).toBe('half a li');
    await expect(it.next()).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('destroy while paused at the high-water mark destroys the body, drops the bytes and rejects with the reason', async () => {
    const src = new PassThrough({ highWaterMark: 16 });
    const body = readByEvents(src);
    const it = body[Symbol.asyncIterator]();
    src.write(Buffer.alloc(EVENT_BODY_HIGH_WATER_BYTES));
    await tick();
    expect(src.isPaused()).toBe(true);
    const reason = new Error('reshard');
    body.destroy(reason);
    expect(src.destroyed).toBe(true);
    await expect(it.next()).rejects.toBe(reason);
  });

  it('exactly the high-water mark pauses; one byte less does not; the next pull resumes and loses nothing', async () => {
    const below = new PassThrough({ highWaterMark: 16 });
    readByEvents(below);
    below.write(Buffer.alloc(EVENT_BODY_HIGH_WATER_BYTES - 1));
    await tick();
    expect(below.isPaused()).toBe(false);
    below.destroy();

    const src = new PassThrough({ highWaterMark: 16 });
    const it = readByEvents(src)[Symbol.asyncIterator]();
    src.write(Buffer.alloc(EVENT_BODY_HIGH_WATER_BYTES, 1));
    src.write(Buffer.from('tail'));
    src.end();
    await tick();
    expect(src.isPaused()).toBe(true);
    const first = (await it.next()).value;
    expect(first?.byteLength).toBe(EVENT_BODY_HIGH_WATER_BYTES);
    expect(src.isPaused()).toBe(false);
    const rest = await drain(it);
    expect(text(rest.bytes)).toBe('tail');
    expect(rest.end).toBe('done');
  });

  it('a body held paused at the mark by a slow consumer ends once the consumer pulls (no end lost behind the pause)', async () => {
    const src = new PassThrough({ highWaterMark: 16 });
    const it = readByEvents(src)[Symbol.asyncIterator]();
    const big = Buffer.alloc(EVENT_BODY_HIGH_WATER_BYTES + 10, 2);
    src.end(big);
    await sleep(20);
    expect(src.isPaused()).toBe(true);
    const out = await drainWithin(it);
    expect(out.end).toBe('done');
    expect(out.bytes.equals(big)).toBe(true);
  });

  // Found by breaking it (fixed): destroy(reason) after the end arrived but before its bytes were pulled dropped the
  // bytes and the next pull said `done` — a clean end of a body whose tail was thrown away.
  it('destroy(reason) after the end arrived but before its bytes were pulled is not reported as a clean end', async () => {
    const src = new PassThrough();
    const body = readByEvents(src);
    const it = body[Symbol.asyncIterator]();
    src.end('{"type":"ADDED"}\n');
    await tick();
    await tick();
    const reason = new Error('stalled');
    body.destroy(reason);
    await expect(it.next()).rejects.toBe(reason);
  });

  // Found by breaking it (fixed): a body that had already failed or closed when wrapped never emits another event, and
  // the first pull waited forever (the Readable's own async iterator looks at `errored` / `destroyed` / `closed`).
  it('a body that failed before it was wrapped fails its first pull instead of hanging', async () => {
    const src = new PassThrough();
    src.on('error', () => {});
    src.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    await new Promise((resolve) => src.once('close', resolve));
    const it = readByEvents(src)[Symbol.asyncIterator]();
    expect(await within(it.next(), 200)).toMatchObject({ error: { code: 'ECONNRESET' } });
  });

  it('a body wrapped after it ended (nothing left to read) is done, not hanging', async () => {
    // Contrast with the test above: this one holds only because the end waits for a reader.
    const src = new PassThrough();
    src.end('x');
    await tick();
    const it = readByEvents(src)[Symbol.asyncIterator]();
    const out = await within(drain(it));
    expect(out).toEqual({ value: { bytes: Buffer.from('x'), end: 'done' } });
  });

  it('property: pulls made one at a time or several at once, destroy or end or error at any moment: bytes in order, each once, every pull settles', async () => {
    type Op =
      | { k: 'write'; n: number; big: boolean }
      | { k: 'pull'; n: number }
      | { k: 'tick' }
      | { k: 'finish'; how: 'end' | 'error' | 'close' | 'destroy' | 'return' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ k: fc.constant('write' as const), n: fc.nat(50), big: fc.boolean() }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant('pull' as const), n: fc.integer({ min: 1, max: 3 }) }) },
      { weight: 3, arbitrary: fc.constant({ k: 'tick' as const }) },
      {
        weight: 1,
        arbitrary: fc.record({
          k: fc.constant('finish' as const),
          how: fc.constantFrom('end' as const, 'error' as const, 'close' as const, 'destroy' as const, 'return' as const),
        }),
      },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const src = new PassThrough({ highWaterMark: 1024 });
        src.on('error', () => {});
        // What the body emitted (what reached the reader): an error drops only what the body itself still buffered.
        const emitted: Buffer[] = [];
        const body = readByEvents(src);
        src.on('data', (c: Buffer) => emitted.push(c));
        const it = body[Symbol.asyncIterator]();
        const sent: Buffer[] = [];
        const pulls: Promise<IteratorResult<Uint8Array>>[] = [];
        // Chunks in the order the pulls settled (pulls made side by side may settle out of call order: see the test
        // of that above); bytes must be neither lost nor repeated nor reordered in that order.
        const got: Buffer[] = [];
        const pull = (): Promise<IteratorResult<Uint8Array>> => {
          const p = it.next();
          p.then(
            (r) => {
              if (!r.done) got.push(Buffer.from(r.value));
            },
            () => {},
          );
          pulls.push(p);
          return p;
        };
        let seq = 0;
        let finished: Op | undefined;
        const reason = new Error('reason');
        for (const o of ops) {
          if (finished) break;
          if (o.k === 'write') {
            // A big write crosses the high-water mark (the body pauses); the PassThrough buffers what it refuses.
            const size = o.big ? EVENT_BODY_HIGH_WATER_BYTES / 2 + o.n : o.n;
            const b = Buffer.alloc(size);
            for (let i = 0; i < size; i++) b[i] = (seq++ * 7) & 0xff;
            sent.push(b);
            src.write(b);
          } else if (o.k === 'pull') {
            for (let i = 0; i < o.n; i++) pull();
          } else if (o.k === 'tick') {
            await tick();
          } else {
            finished = o;
            if (o.how === 'end') src.end();
            else if (o.how === 'error') src.destroy(new Error('cut'));
            else if (o.how === 'close') src.destroy();
            else if (o.how === 'destroy') body.destroy(reason);
            else void it.return?.();
          }
        }
        if (!finished) src.end();
        const how = finished?.k === 'finish' ? finished.how : 'end';
        // Pull until the end, then every pull made is settled.
        let last: IteratorResult<Uint8Array> | Error | undefined;
        for (let guard = 0; guard < 1000; guard++) {
          const r = await within(pull(), 1000);
          if (r === 'pending') throw new Error(`a pull hangs after ${how}`);
          if ('error' in r) {
            last = r.error as Error;
            break;
          }
          if (r.value.done) {
            last = r.value;
            break;
          }
        }
        let errors = 0;
        for (const p of pulls) {
          const r = await within(p, 1000);
          if (r === 'pending') throw new Error(`an earlier pull hangs after ${how}`);
          if ('error' in r) errors += 1;
          else if (!r.value.done) expect(r.value.value.byteLength).toBeGreaterThan(0);
        }
        const all = Buffer.concat(sent);
        const received = Buffer.concat(got);
        if (how === 'end') {
          // Nothing dropped: all written bytes, in order, once.
          expect(received.equals(all)).toBe(true);
        } else if (how === 'error') {
          // Everything the body emitted before its error is handed out, in order, once.
          expect(received.equals(Buffer.concat(emitted))).toBe(true);
          expect(received.equals(all.subarray(0, received.length))).toBe(true);
        } else {
          // Destroyed: what was handed out is a prefix of what was written, in order, nothing twice.
          expect(received.equals(all.subarray(0, received.length))).toBe(true);
        }
        if (how === 'end') {
          expect(errors).toBe(0);
          expect(last).toEqual({ done: true, value: undefined });
        } else if (how === 'destroy') {
          expect(last).toBe(reason);
        } else if (how === 'error') {
          expect(last).toMatchObject({ message: 'cut' });
        } else {
          expect(last).toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
        }
        expect(src.isPaused() && !src.destroyed && !src.readableEnded).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('readByEvents over a real HTTP/1.1 response', () => {
  async function h1(handler: http.RequestListener): Promise<IncomingMessage> {
    const server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const { port } = server.address() as AddressInfo;
    return new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, resolve);
      req.on('error', reject);
    });
  }

  it('a clean end (chunked, then keep-alive close) is done after every byte', async () => {
    const res = await h1((_req, res) => {
      res.write('a\n');
      setTimeout(() => res.end('b\n'), 10);
    });
    const out = await within(drain(readByEvents(res)[Symbol.asyncIterator]()), 2000);
    expect(out).toEqual({ value: { bytes: Buffer.from('a\nb\n'), end: 'done' } });
  });

  it('the server cutting the connection mid-body (chunked) is an error after the bytes that came, not a clean end', async () => {
    const res = await h1((_req, res) => {
      res.write('{"type":"ADDED"}\n', () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const out = await drainWithin(readByEvents(res)[Symbol.asyncIterator](), 2000);
    expect(text(out.bytes)).toBe('{"type":"ADDED"}\n');
    expect(out.end).not.toBe('done');
  });

  it('a body shorter than its Content-Length is an error, not a clean end', async () => {
    const res = await h1((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('only ten!\n', () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const out = await drainWithin(readByEvents(res)[Symbol.asyncIterator](), 2000);
    expect(text(out.bytes)).toBe('only ten!\n');
    expect(out.end).not.toBe('done');
  });

  it('the client destroying mid-body rejects the pending pull with the reason and closes the socket', async () => {
    const res = await h1((_req, res) => {
      res.write('first\n');
    });
    const body = readByEvents(res);
    const it = body[Symbol.asyncIterator]();
    expect(text((await it.next()).value)).toBe('first\n');
    const pending = it.next();
    const reason = new Error('stalled');
    body.destroy(reason);
    expect(await within(pending)).toEqual({ error: reason });
    await sleep(20);
    expect(res.socket?.destroyed ?? true).toBe(true);
  });

  it('backpressure reaches the server: a consumer that stops pulling stops the server writing', async () => {
    let written = 0;
    let blocked = false;
    const res = await h1((_req, res) => {
      const piece = Buffer.alloc(64 * 1024, 'x');
      const pump = (): void => {
        while (written < 64 * EVENT_BODY_HIGH_WATER_BYTES) {
          written += piece.length;
          if (!res.write(piece)) {
            blocked = true;
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const it = readByEvents(res)[Symbol.asyncIterator]();
    await sleep(200);
    expect(blocked).toBe(true);
    expect(res.isPaused()).toBe(true);
    // Far less than the 64 MiB the server wanted to send: the body + socket + kernel buffers.
    expect(written).toBeLessThan(16 * EVENT_BODY_HIGH_WATER_BYTES);
    const out = await drainWithin(it, 10_000);
    expect(out.end).toBe('done');
    expect(out.bytes.length).toBe(64 * EVENT_BODY_HIGH_WATER_BYTES);
  });
});

describe("readByEvents over undici's body", () => {
  async function viaUndici(handler: http.RequestListener) {
    const { request, Agent } = await import('undici');
    const server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dispatcher = new Agent();
    cleanups.push(async () => {
      await dispatcher.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const { port } = server.address() as AddressInfo;
    return request(`http://127.0.0.1:${port}/`, { dispatcher });
  }

  it('a clean end is done after every byte', async () => {
    const res = await viaUndici((_req, res) => {
      res.write('a\n');
      setTimeout(() => res.end('b\n'), 10);
    });
    const out = await within(drain(readByEvents(res.body)[Symbol.asyncIterator]()), 2000);
    expect(out).toEqual({ value: { bytes: Buffer.from('a\nb\n'), end: 'done' } });
  });

  it('the server cutting the connection mid-body is an error after the bytes, not a clean end', async () => {
    const res = await viaUndici((_req, res) => {
      res.write('x\n', () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const out = await drainWithin(readByEvents(res.body)[Symbol.asyncIterator](), 2000);
    expect(text(out.bytes)).toBe('x\n');
    expect(out.end).not.toBe('done');
  });

  it('destroy(reason) mid-body rejects the pending pull with the reason', async () => {
    const res = await viaUndici((_req, res) => {
      res.write('x\n');
    });
    const body = readByEvents(res.body);
    const it = body[Symbol.asyncIterator]();
    expect(text((await it.next()).value)).toBe('x\n');
    const pending = it.next();
    const reason = new Error('stalled');
    body.destroy(reason);
    expect(await within(pending)).toEqual({ error: reason });
  });
});

describe('readByEvents over a real HTTP/2 stream', () => {
  async function h2(onStream: (s: http2.ServerHttp2Stream) => void): Promise<http2.ClientHttp2Stream> {
    const server = http2.createServer();
    server.on('stream', (s) => {
      s.on('error', () => {});
      onStream(s);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => {});
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          session.destroy();
          server.close(() => resolve());
        }),
    );
    const stream = session.request({ ':path': '/' });
    await new Promise((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('error', reject);
    });
    return stream;
  }

  it('a clean end (END_STREAM, then close) is done after every byte, never a premature close', async () => {
    for (let i = 0; i < 20; i++) {
      const stream = await h2((s) => {
        s.respond({ ':status': 200 });
        s.write('a\n');
        s.end('b\n');
      });
      const out = await within(drain(readByEvents(stream)[Symbol.asyncIterator]()), 2000);
      expect(out).toEqual({ value: { bytes: Buffer.from('a\nb\n'), end: 'done' } });
    }
  });

  it('many clean ends, 16 streams in flight on one session: every one is done after its bytes, none a premature close', async () => {
    const server = http2.createServer();
    server.on('stream', (s) => {
      s.on('error', () => {});
      s.respond({ ':status': 200 });
      s.write('{"a":1}\n');
      setImmediate(() => s.end('{"b":2}\n'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => {});
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          session.destroy();
          server.close(() => resolve());
        }),
    );
    const one = async (): Promise<string> => {
      const stream = session.request({ ':path': '/' });
      await new Promise((resolve, reject) => {
        stream.once('response', resolve);
        stream.once('error', reject);
      });
      const out = await within(drain(readByEvents(stream)[Symbol.asyncIterator]()), 5000);
      if (out === 'pending') return 'hang';
      if ('error' in out) return String(out.error);
      return out.value.end === 'done' ? text(out.value.bytes) : `error ${(out.value.end as { code?: string }).code}`;
    };
    const results: string[] = [];
    for (let round = 0; round < 40; round++) results.push(...(await Promise.all(Array.from({ length: 16 }, one))));
    expect(results.filter((r) => r !== '{"a":1}\n{"b":2}\n')).toEqual([]);
  });

  it('the server resetting the stream with an error code (RST_STREAM INTERNAL_ERROR) is an error after the bytes', async () => {
    const stream = await h2((s) => {
      s.respond({ ':status': 200 });
      s.write('{"type":"ADDED"}\n', () => setTimeout(() => s.destroy(new Error('handler panicked')), 20));
    });
    const out = await drainWithin(readByEvents(stream)[Symbol.asyncIterator](), 2000);
    expect(text(out.bytes)).toBe('{"type":"ADDED"}\n');
    expect(out.end).toMatchObject({ code: 'ERR_HTTP2_STREAM_ERROR' });
  });

  it('a GOAWAY with an error code mid-body is an error after the bytes', async () => {
    const stream = await h2((s) => {
      s.respond({ ':status': 200 });
      s.write('x\n', () => setTimeout(() => s.session?.goaway(http2.constants.NGHTTP2_INTERNAL_ERROR), 20));
    });
    const out = await drainWithin(readByEvents(stream)[Symbol.asyncIterator](), 2000);
    expect(text(out.bytes)).toBe('x\n');
    expect(out.end).not.toBe('done');
  });

  it('the connection dropping mid-body is a NETWORK_ERROR after the bytes, though Node ends the stream as if cleanly', async () => {
    // Node's client stream, on its session's socket closing, pushes the end (readableEnded) with rstCode CANCEL and no
    // error: readByEvents reads the reset code, so the cut is not taken for the server's end of the response.
    const stream = await h2((s) => {
      s.respond({ ':status': 200 });
      s.write('x\n', () => setTimeout(() => s.session?.socket.destroy(), 20));
    });
    const out = await drainWithin(readByEvents(stream)[Symbol.asyncIterator](), 2000);
    expect(text(out.bytes)).toBe('x\n');
    expect(stream.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    expect(out.end).toMatchObject({ code: 'NETWORK_ERROR' });
  });

  it('the client destroying mid-body rejects the pending pull with the reason and resets the stream', async () => {
    let serverClosed: Promise<number | undefined> = Promise.resolve(undefined);
    const stream = await h2((s) => {
      serverClosed = new Promise((resolve) => s.once('close', () => resolve(s.rstCode)));
      s.respond({ ':status': 200 });
      s.write('first\n');
    });
    const body = readByEvents(stream);
    const it = body[Symbol.asyncIterator]();
    expect(text((await it.next()).value)).toBe('first\n');
    const pending = it.next();
    const reason = new Error('reshard');
    body.destroy(reason);
    expect(await within(pending)).toEqual({ error: reason });
    expect(await within(serverClosed, 2000)).toMatchObject({ value: expect.any(Number) });
    expect(stream.destroyed).toBe(true);
  });

  it('HTTP/2 flow control: a consumer that stops pulling stops the server past the window, and everything arrives after', async () => {
    const total = 16 * EVENT_BODY_HIGH_WATER_BYTES;
    let written = 0;
    const stream = await h2((s) => {
      s.respond({ ':status': 200 });
      const piece = Buffer.alloc(64 * 1024, 'y');
      const pump = (): void => {
        while (written < total) {
          written += piece.length;
          if (!s.write(piece)) {
            s.once('drain', pump);
            return;
          }
        }
        s.end();
      };
      pump();
    });
    const it = readByEvents(stream)[Symbol.asyncIterator]();
    await sleep(200);
    expect(stream.isPaused()).toBe(true);
    expect(written).toBeLessThan(total);
    const out = await drainWithin(it, 10_000);
    expect(out.end).toBe('done');
    expect(out.bytes.length).toBe(total);
  });
});

describe('guardReadIdle over readByEvents', () => {
  const health = { readIdleMs: 40, pingTimeoutMs: 40 };

  it('a consumer that holds a paused body without pulling is not taken for a dead connection', async () => {
    const src = new PassThrough({ highWaterMark: 16 });
    const it = guardReadIdle(src, health, 'https://x')[Symbol.asyncIterator]();
    src.write(Buffer.alloc(EVENT_BODY_HIGH_WATER_BYTES));
    await tick();
    expect((await it.next()).value?.byteLength).toBe(EVENT_BODY_HIGH_WATER_BYTES);
    src.write(Buffer.alloc(EVENT_BODY_HIGH_WATER_BYTES));
    await sleep(200); // no pull waits: the guard must not fire
    expect(src.destroyed).toBe(false);
    expect((await it.next()).value?.byteLength).toBe(EVENT_BODY_HIGH_WATER_BYTES);
    src.end();
    expect((await it.next()).done).toBe(true);
  });

  it('a pull that waits past the limit fails STALLED, and the body is destroyed', async () => {
    const src = new PassThrough();
    const it = guardReadIdle(src, health, 'https://x')[Symbol.asyncIterator]();
    src.write('a');
    expect(text((await it.next()).value)).toBe('a');
    const out = await within(it.next(), 1000);
    expect(out).toMatchObject({ error: { code: 'STALLED' } });
    expect(src.destroyed).toBe(true);
  });

  it('a body that keeps delivering is never stalled, with pulls made two at a time', async () => {
    const src = new PassThrough();
    // A roomier limit than the others (400 ms against a byte every 10 ms): a loaded machine's timer lag is not a stall.
    const it = guardReadIdle(src, { readIdleMs: 200, pingTimeoutMs: 200 }, 'https://x')[Symbol.asyncIterator]();
    const writer = setInterval(() => src.write('.'), 10);
    try {
      let got = 0;
      const until = Date.now() + 300;
      while (Date.now() < until) {
        const [a, b] = await Promise.all([it.next(), it.next()]);
        got += (a.value?.byteLength ?? 0) + (b.value?.byteLength ?? 0);
      }
      expect(got).toBeGreaterThan(0);
      expect(src.destroyed).toBe(false);
    } finally {
      clearInterval(writer);
      src.destroy();
    }
  });
});
