// Counts a process's established TCP connections to a port, read from /proc (for connection tests).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * How many established TCP connections process `pid` has to `port` (on any address), read from
 * /proc (Linux only): the process's socket inodes matched against /proc/net/tcp and tcp6.
 *
 * @example
 * ```ts
 * tcpConnectionsTo(Number(new URL(cp.server).port)); // connections of this process to the apiserver
 * ```
 */
export function tcpConnectionsTo(port: number, pid: number = process.pid): number {
  return tcpConnectionIdsTo(port, pid).size;
}

/**
 * The established TCP connections of process `pid` to `port`, by socket inode: to count the connections
 * something opened (`after` minus `before`) even while other connections of the process close.
 *
 * @example
 * ```ts
 * const before = tcpConnectionIdsTo(port);
 * // … open watches …
 * const opened = [...tcpConnectionIdsTo(port)].filter((id) => !before.has(id)).length;
 * ```
 */
export function tcpConnectionIdsTo(port: number, pid: number = process.pid): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const ids = new Set<string>();
  for (const table of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[2] = remote address:port, f[3] = state (01 = ESTABLISHED), f[9] = inode
      if (f.length > 9 && f[2]?.endsWith(`:${hexPort}`) && f[3] === '01' && inodes.has(f[9] as string)) ids.add(f[9] as string);
    }
  }
  return ids;
}
