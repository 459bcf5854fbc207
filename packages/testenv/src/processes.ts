import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** How a control-plane process was started, enough to start it again from any process. */
export interface ProcessSpec {
  readonly name: string;
  readonly bin: string;
  readonly args: readonly string[];
  readonly logFile: string;
}

/**
 * Starts a process detached in a process group of its own (so one signal reaches it
 * and anything it forks), stdout and stderr appended to its log file.
 */
export function startProcess(spec: ProcessSpec): number {
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.bin, [...spec.args], { detached: true, stdio: ['ignore', fd, fd] });
    child.on('error', () => {}); // reported by isAlive() / the log instead
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.bin})`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** True when a process with this PID exists (and is not a zombie we could reap). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie still answers kill(0); /proc tells it apart.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/**
 * Ends a process group: SIGTERM, then SIGKILL after `graceMs`. Resolves once the
 * leader is gone. Safe to call for a PID that already exited.
 */
export async function stopProcessGroup(pid: number, graceMs = 10_000): Promise<void> {
  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  if (!isAlive(pid)) return;
  signalGroup('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) {
    signalGroup('SIGKILL');
    while (isAlive(pid)) await sleep(20);
  }
}

/** Records the PIDs the watchdog must kill; rewritten whenever a process is restarted. */
export function writePidFile(file: string, pids: readonly number[]): void {
  writeFileSync(file, `${pids.join('\n')}\n`);
}

/**
 * Starts a tiny shell watchdog, detached, that kills every process group named in
 * `pidFile` as soon as `ownerPid` is gone — even when the owner died from SIGKILL and
 * ran no cleanup. It exits by itself once the owner is gone.
 */
export function startWatchdog(ownerPid: number, pidFile: string): number {
  const script = [
    `while kill -0 ${ownerPid} 2>/dev/null; do sleep 1; done`,
    `for p in $(cat '${pidFile}' 2>/dev/null); do kill -TERM -- -$p 2>/dev/null || kill -TERM $p 2>/dev/null; done`,
    'sleep 5',
    `for p in $(cat '${pidFile}' 2>/dev/null); do kill -KILL -- -$p 2>/dev/null || kill -KILL $p 2>/dev/null; done`,
  ].join('\n');
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  return child.pid ?? 0;
}

/** The last `lines` lines of a log file, for error messages. */
export function logTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
