import { WatchEventEnvelopeSchema } from '@kwatch/models';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../src/internal/errors.ts';
import { LineSplitter, parseWatchLine } from '../src/watch/lineDecoder.ts';

/** Splits `bytes` at the given cut points into chunks. */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

const lineText = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ''));

describe('LineSplitter (property)', () => {
  it('gives back exactly the non-empty lines, however the bytes are split (UTF-8 sequences included)', () => {
    fc.assert(
      fc.property(fc.array(lineText, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (lines, cuts) => {
        const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
        const split = new LineSplitter();
        const got = chunked(bytes, cuts).flatMap((c) => split.push(c));
        split.end();
        expect(got).toEqual(lines.filter((l) => l.length > 0));
      }),
      { numRuns: 500 },
    );
  });

  it('errors when the stream ends inside a line, whatever the split', () => {
    fc.assert(
      fc.property(
        lineText.filter((s) => s.length > 0),
        fc.array(fc.nat(), { maxLength: 5 }),
        (tail, cuts) => {
          const split = new LineSplitter();
          for (const c of chunked(Buffer.from(`{"a":1}\n${tail}`), cuts)) split.push(c);
          expect(() => split.end()).toThrow(DecodeError);
        },
      ),
    );
  });

  it('refuses a line longer than the limit instead of buffering it, across chunks too', () => {
    const split = new LineSplitter(10);
    expect(split.push(Buffer.from('0123456789\n'))).toEqual(['0123456789']);
    split.push(Buffer.from('012345'));
    expect(() => split.push(Buffer.from('6789A'))).toThrow(expect.objectContaining({ code: 'LINE_TOO_LONG' }));
    expect(split.pendingBytes).toBe(0);
  });

  it('any line over the limit is LINE_TOO_LONG, however it is split, and memory is released', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (limit, extra, cuts) => {
          const split = new LineSplitter(limit);
          const bytes = Buffer.from(`${'x'.repeat(limit + extra)}\n`);
          let error: unknown;
          try {
            for (const c of chunked(bytes, cuts)) split.push(c);
          } catch (e) {
            error = e;
          }
          expect(error).toMatchObject({ code: 'LINE_TOO_LONG' });
          expect(split.pendingBytes).toBe(0);
        },
      ),
    );
  });

  it('drops \\r before \\n and empty lines', () => {
    const split = new LineSplitter();
    expect(split.push(Buffer.from('a\r\n\n\r\nb\n'))).toEqual(['a', 'b']);
  });

  it('gives back the same lines with \\r\\n endings and empty lines, however split (ASCII and not)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(lineText, fc.constantFrom('\n', '\r\n', '\n\n', '\r\n\r\n')), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (lines, cuts) => {
          const bytes = Buffer.from(lines.map(([l, end]) => l + end).join(''), 'utf8');
          const split = new LineSplitter();
          const got = chunked(bytes, cuts).flatMap((c) => split.push(c));
          split.end();
          expect(got).toEqual(lines.map(([l]) => l).filter((l) => l.length > 0));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('measures the limit in bytes, not characters, for lines that are not ASCII', () => {
    const split = new LineSplitter(10);
    // 6 characters, 12 bytes, in one chunk with an ASCII line before it.
    expect(() => split.push(Buffer.from('ok\néééééé\n', 'utf8'))).toThrow(expect.objectContaining({ code: 'LINE_TOO_LONG' }));
    const fits = new LineSplitter(12);
    expect(fits.push(Buffer.from('ok\néééééé\n', 'utf8'))).toEqual(['ok', 'éééééé']);
  });

  it('hands out every line of a chunk holding many events, in order', () => {
    const events = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ type: 'ADDED', object: { i } }));
    const split = new LineSplitter();
    const got = split.push(Buffer.from(`${events.join('\n')}\n`));
    expect(got.map((l) => parseWatchLine(l).object.i)).toEqual(events.map((_, i) => i));
  });

  it('does not keep a reference to the caller chunk for a pending line', () => {
    const split = new LineSplitter();
    const chunk = Buffer.from('{"x"');
    split.push(chunk);
    chunk.fill(0x20);
    expect(split.push(Buffer.from(':1}\n'))).toEqual(['{"x":1}']);
  });
});

describe('parseWatchLine', () => {
  it('parses an envelope', () => {
    expect(parseWatchLine('{"type":"ADDED","object":{"kind":"Pod"}}')).toEqual({ type: 'ADDED', object: { kind: 'Pod' } });
  });

  it('turns any other line into a DecodeError that never quotes the line', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (junk) => {
        const secret = `s3cr3t-${junk}`;
        const line = `{"type":"ADDED","object":{"data":{"password":"${secret}"`;
        try {
          parseWatchLine(line);
          expect.unreachable();
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
          expect((e as DecodeError).message).not.toContain('s3cr3t');
          expect((e as DecodeError).cause).toBeUndefined();
        }
      }),
    );
  });

  it.each([
    ['null', 'not a JSON object (got object)'],
    ['[1]', 'not a JSON object (got array)'],
    ['"x"', 'not a JSON object (got string)'],
    ['{"object":{}}', 'no `type` string'],
    ['{"type":"ADDED"}', 'A ADDED watch event has no `object`'],
    ['{"type":"ADDED","object":[1]}', 'has no `object`'],
  ])('rejects %s', (line, message) => {
    expect(() => parseWatchLine(line)).toThrow(message);
  });
});

describe('parseWatchLine agrees with the zod envelope schema', () => {
  it('accepts every envelope the schema accepts, with the same type and object', () => {
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.array(fc.integer(), { maxLength: 2 }),
      fc.dictionary(fc.string(), fc.string()),
    );
    const envelope = fc.record(
      { type: value, object: fc.oneof(value, fc.record({ kind: fc.string(), metadata: fc.record({ name: fc.string() }) })) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(envelope, (candidate) => {
        const line = JSON.stringify(candidate);
        const bySchema = WatchEventEnvelopeSchema.safeParse(candidate);
        let byHand: ReturnType<typeof parseWatchLine> | undefined;
        try {
          byHand = parseWatchLine(line);
        } catch {
          byHand = undefined;
        }
        if (bySchema.success) expect(byHand).toEqual({ type: bySchema.data.type, object: candidate.object });
        if (byHand) expect(typeof byHand.type === 'string' && byHand.type.length > 0).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
