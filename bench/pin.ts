/**
 * Pins a benchmark process to one core with `taskset` when the machine has more than one core
 * and taskset exists; otherwise runs it unpinned. Returns [command, args] for node.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

let hasTaskset: boolean | undefined;

export function pinned(cpu: number, nodeArgs: string[]): [string, string[]] {
  hasTaskset ??= (() => {
    try {
      execFileSync('taskset', ['-V'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!hasTaskset || availableParallelism() < 2) return [process.execPath, nodeArgs];
  return ['taskset', ['-c', String(cpu % availableParallelism()), process.execPath, ...nodeArgs]];
}
