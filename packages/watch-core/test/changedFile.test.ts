// readChanged(): a token or certificate file read again only when it changed, so rotations are seen.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readChanged } from '../src/client/changedFile.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function file(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kwatch-changed-'));
  dirs.push(dir);
  const path = join(dir, 'token');
  writeFileSync(path, content);
  return path;
}

describe('readChanged', () => {
  it('reads a file once while it stays the same (the same bytes, not read again)', () => {
    const path = file('token-1');
    const first = readChanged(path);
    expect(first.toString()).toBe('token-1');
    expect(readChanged(path)).toBe(first);
  });

  it('reads it again once its size or its mtime changed (a rotated token)', () => {
    const path = file('token-1');
    const first = readChanged(path);
    writeFileSync(path, 'token-22');
    expect(readChanged(path).toString()).toBe('token-22');
    writeFileSync(path, 'token-33'); // same size: the mtime tells
    const later = new Date(Date.now() + 5_000);
    utimesSync(path, later, later);
    const third = readChanged(path);
    expect(third.toString()).toBe('token-33');
    expect(third).not.toBe(first);
  });

  it('throws what fs throws for a missing file, naming the path', () => {
    const path = join(file('x'), '..', 'missing');
    expect(() => readChanged(path)).toThrow(expect.objectContaining({ code: 'ENOENT', message: expect.stringContaining(path) }));
  });
});
