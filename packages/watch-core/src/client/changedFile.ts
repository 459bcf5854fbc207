// Reads a file again only when it changed (inode, size, mtime): token and certificate files.
import { readFileSync, statSync } from 'node:fs';

interface Seen {
  readonly stamp: string;
  readonly bytes: Buffer;
}
const seen = new Map<string, Seen>();

/**
 * The bytes of `path`, read again only when the file changed (its inode, size or mtime), so a
 * rotated token file or certificate is picked up by the next request at the cost of one stat.
 * Throws what `fs` throws (ENOENT, EACCES); the error names the path, never the contents.
 *
 * @example
 * ```ts
 * const token = readChanged('/var/run/secrets/kubernetes.io/serviceaccount/token').toString('utf8').trim();
 * ```
 */
export function readChanged(path: string): Buffer {
  const st = statSync(path);
  const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
  const found = seen.get(path);
  if (found?.stamp === stamp) return found.bytes;
  const bytes = readFileSync(path);
  seen.set(path, { stamp, bytes });
  return bytes;
}
