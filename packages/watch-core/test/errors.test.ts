// The error table decides class and `retryable` by code; nothing in the sources contradicts it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  ConfigError,
  DecodeError,
  ERROR_CODES,
  errorFor,
  GoneError,
  KindError,
  KwatchError,
  type KwatchErrorCode,
  TransportError,
} from '../src/index.ts';

const CLASSES = { KwatchError, KindError, ApiError, GoneError, DecodeError, TransportError, ConfigError };
const codes = Object.keys(ERROR_CODES) as KwatchErrorCode[];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('the error table', () => {
  it.each(codes)('%s: errorFor builds its class, with its retryable', (code) => {
    const { class: cls, retryable } = ERROR_CODES[code];
    const e = errorFor(code, 'm', { httpStatus: 500 });
    expect(e.constructor).toBe(CLASSES[cls]);
    expect(e.name).toBe(cls);
    expect(e.code).toBe(code);
    expect(e.retryable).toBe(retryable);
    expect(e).toBeInstanceOf(KwatchError);
  });

  it('every `new XError(code, …)` in the packages uses the class the table gives that code', () => {
    const root = join(import.meta.dirname, '../..');
    const found: string[] = [];
    const wrong: string[] = [];
    for (const pkg of readdirSync(root)) {
      let files: string[] = [];
      try {
        files = sources(join(root, pkg, 'src'));
      } catch {
        continue;
      }
      for (const file of files) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/new (\w*Error)\(\s*'([A-Z_]+)'/g)) {
          const [, cls, code] = m as unknown as [string, string, string];
          if (!(cls in CLASSES)) continue;
          found.push(`${cls}(${code})`);
          const entry = ERROR_CODES[code as KwatchErrorCode];
          if (!entry) wrong.push(`${file}: ${cls}('${code}'): no such code`);
          else if (entry.class !== cls && !(cls === 'ApiError' && entry.class === 'GoneError'))
            wrong.push(`${file}: ${cls}('${code}') but the table says ${entry.class}`);
        }
      }
    }
    expect(found.length).toBeGreaterThan(20);
    expect(wrong).toEqual([]);
  });

  it('a retryable flag cannot be set case by case any more', () => {
    // @ts-expect-error retryable is decided by the code
    const e = new TransportError('NETWORK_ERROR', 'x', { retryable: false });
    expect(e.retryable).toBe(true);
  });
});
