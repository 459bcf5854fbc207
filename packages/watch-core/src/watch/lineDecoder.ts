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
    const lines: string[] = [];
    let start = 0;
    let nl = buf.indexOf(10, start);
    while (nl !== -1) {
      let line: string;
      if (this.#pendingBytes > 0) {
        this.#checkLength(this.#pendingBytes + (nl - start));
        this.#pending.push(buf.subarray(start, nl));
        line = Buffer.concat(this.#pending, this.#pendingBytes + (nl - start)).toString('utf8');
        this.#pending = [];
        this.#pendingBytes = 0;
      } else {
        this.#checkLength(nl - start);
        line = buf.toString('utf8', start, nl);
      }
      const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
      if (trimmed.length > 0) lines.push(trimmed);
      start = nl + 1;
      nl = buf.indexOf(10, start);
    }
    if (start < buf.length) {
      this.#checkLength(this.#pendingBytes + (buf.length - start));
      // Copy: the caller may reuse the chunk's memory.
      this.#pending.push(Buffer.from(buf.subarray(start)));
      this.#pendingBytes += buf.length - start;
    }
    return lines;
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
