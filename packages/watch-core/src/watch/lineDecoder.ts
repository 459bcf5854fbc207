// The watch stream's line decoder: bytes to lines to raw watch events, bounded in size.
import { DEFAULTS, DecodeError } from '../internal/index.ts';

/**
 * Default largest line (one watch event) kwatch accepts: 16 MiB (etcd's own limit is 1.5 MiB per object).
 *
 * @deprecated The same value as `DEFAULTS.watcher.maxLineBytes`, where every default is; use that.
 */
export const DEFAULT_MAX_LINE_BYTES: number = DEFAULTS.watcher.maxLineBytes;

/**
 * Splits a byte stream into lines at `\n`, working on bytes so a UTF-8 sequence split
 * across chunks is never broken. Pure: no I/O, no timers. A line longer than
 * `maxLineBytes` is an error (`LINE_TOO_LONG`) instead of unbounded memory; `\r` before
 * `\n` and empty lines are dropped (they carry no event).
 *
 * @example
 * ```ts
 * const split = new LineSplitter();
 * split.push(Buffer.from('{"a":1}\n{"b"')); // ['{"a":1}']
 * split.push(Buffer.from(':2}\n'));         // ['{"b":2}']
 * split.end();                              // ends cleanly
 * ```
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(maxLineBytes: number = DEFAULTS.watcher.maxLineBytes) {
    this.#maxLineBytes = maxLineBytes;
  }

  /** Bytes held for a line not yet complete. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Feeds one chunk; returns the lines it completed, in order. */
  push(chunk: Uint8Array): string[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const last = buf.lastIndexOf(10);
    if (last === -1) {
      this.#hold(buf, 0);
      return [];
    }
    const lines: string[] = [];
    let start = 0;
    if (this.#pendingBytes > 0) {
      // The held bytes and this chunk's first line are one line.
      const nl = buf.indexOf(10);
      this.#checkLength(this.#pendingBytes + nl);
      this.#pending.push(buf.subarray(0, nl));
      const line = Buffer.concat(this.#pending, this.#pendingBytes + nl).toString('utf8');
      this.#pending = [];
      this.#pendingBytes = 0;
      add(lines, line);
      start = nl + 1;
    }
    if (start < last) {
      // The chunk's complete lines decoded at once: one string, cut at '\n' (each line a slice of it, which
      // JSON.parse reads in place). When it has as many characters as bytes (ASCII, as watch JSON almost always
      // is), every line's length is its size in bytes.
      const text = buf.toString('utf8', start, last);
      if (text.length === last - start) this.#cut(text, lines);
      else this.#cutBytes(buf, start, last, lines);
    }
    this.#hold(buf, last + 1);
    return lines;
  }

  /** The lines of `text` (complete lines, one character per byte), bounded in length. */
  #cut(text: string, lines: string[]): void {
    const max = this.#maxLineBytes;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      const end = nl === -1 ? text.length : nl;
      if (end - start > max) this.#checkLength(end - start);
      if (end > start) add(lines, text.slice(start, end));
      if (nl === -1) return;
      start = nl + 1;
    }
  }

  /** The lines between `start` and `end` (a newline) of `buf`, found on bytes: for text that is not all ASCII. */
  #cutBytes(buf: Buffer, start: number, end: number, lines: string[]): void {
    let at = start;
    while (at <= end) {
      let nl = buf.indexOf(10, at);
      if (nl === -1 || nl > end) nl = end;
      this.#checkLength(nl - at);
      if (nl > at) add(lines, buf.toString('utf8', at, nl));
      at = nl + 1;
    }
  }

  /** Holds the bytes of `buf` from `from` on: the start of a line not yet complete. */
  #hold(buf: Buffer, from: number): void {
    if (from >= buf.length) return;
    this.#checkLength(this.#pendingBytes + (buf.length - from));
    // Copy: the caller may reuse the chunk's memory.
    this.#pending.push(Buffer.from(buf.subarray(from)));
    this.#pendingBytes += buf.length - from;
  }

  /** The stream ended. Throws a `DecodeError` if it ended inside a line (a cut connection). */
  end(): void {
    if (this.#pendingBytes > 0) {
      const bytes = this.#pendingBytes;
      this.#pending = [];
      this.#pendingBytes = 0;
      throw new DecodeError('DECODE_ERROR', `The stream ended in the middle of a line (${bytes} bytes without a newline)`);
    }
  }

  #checkLength(bytes: number): void {
    if (bytes > this.#maxLineBytes) {
      this.#pending = [];
      this.#pendingBytes = 0;
      throw new DecodeError('LINE_TOO_LONG', `A watch event is longer than maxLineBytes (${this.#maxLineBytes} bytes)`);
    }
  }
}

/** Adds a line without its trailing `\r`; an empty line carries no event and is dropped. */
function add(lines: string[], line: string): void {
  const n = line.length;
  if (n > 0 && line.charCodeAt(n - 1) === 13) {
    if (n > 1) lines.push(line.slice(0, -1));
  } else if (n > 0) lines.push(line);
}

/** A watch event as it came over the wire: type and the raw object. */
export interface RawWatchEvent {
  readonly type: string;
  readonly object: Record<string, unknown>;
}

/**
 * Parses one line into a watch event envelope. Anything else — malformed JSON, a value
 * that is not `{type: string, object: {...}}` — is a `DecodeError` that describes the
 * problem without quoting the line.
 *
 * @example
 * ```ts
 * parseWatchLine('{"type":"ADDED","object":{"kind":"Pod"}}').type; // 'ADDED'
 * ```
 */
export function parseWatchLine(line: string): RawWatchEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    // V8's message quotes the text; keep only where it broke.
    const at = /position (\d+)/.exec(String((err as Error).message))?.[1];
    throw new DecodeError(
      'DECODE_ERROR',
      `A watch stream line is not valid JSON (${line.length} characters${at === undefined ? '' : `, error at position ${at}`})`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DecodeError(
      'DECODE_ERROR',
      `A watch stream line is not a JSON object (got ${Array.isArray(value) ? 'array' : typeof value})`,
    );
  }
  const { type, object } = value as { type?: unknown; object?: unknown };
  if (typeof type !== 'string' || type === '') {
    throw new DecodeError('DECODE_ERROR', 'A watch event has no `type` string');
  }
  if (typeof object !== 'object' || object === null || Array.isArray(object)) {
    throw new DecodeError('DECODE_ERROR', `A ${type} watch event has no \`object\``);
  }
  return { type, object: object as Record<string, unknown> };
}
