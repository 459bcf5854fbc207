// Every default of watch-core is written once, in DEFAULTS (internal/defaults.ts), and cannot be changed at run time.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_LINE_BYTES, DEFAULTS, HTTP2_HEALTH_DEFAULTS, LineSplitter } from '../src/index.ts';

const src = join(import.meta.dirname, '../src');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

describe('DEFAULTS', () => {
  it('is frozen all the way down', () => {
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
    for (const section of Object.values(DEFAULTS)) expect(Object.isFrozen(section)).toBe(true);
    expect(() => {
      (DEFAULTS.client as { http2: boolean }).http2 = false;
    }).toThrow(TypeError);
  });

  it('the older exports are views of it, not second copies', () => {
    expect(HTTP2_HEALTH_DEFAULTS).toEqual({
      readIdleMs: DEFAULTS.client.readIdleMs,
      pingTimeoutMs: DEFAULTS.client.pingTimeoutMs,
    });
    expect(DEFAULT_MAX_LINE_BYTES).toBe(DEFAULTS.watcher.maxLineBytes);
    const split = new LineSplitter();
    expect(() => split.push(Buffer.alloc(DEFAULTS.watcher.maxLineBytes + 1, 0x61))).toThrow(
      expect.objectContaining({ code: 'LINE_TOO_LONG' }),
    );
  });

  it('`http2: true` is written once: no source falls back to a literal for it', () => {
    const found: string[] = [];
    for (const file of files(src)) {
      const where = relative(src, file);
      if (where === 'internal/defaults.ts') continue;
      for (const [i, line] of readFileSync(file, 'utf8').split('\n').entries()) {
        const code = line.trim();
        if (code.startsWith('*') || code.startsWith('/*') || code.startsWith('//')) continue; // documentation
        if (/\bhttp2\s*:\s*true\b/.test(code) || /\bhttp2\b.*\?\?\s*true\b/.test(code)) found.push(`${where}:${i + 1}: ${code}`);
      }
    }
    expect(found).toEqual([]);
  });
});
