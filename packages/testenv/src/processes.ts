// Control-plane processes: started detached in a group of their own, checked, stopped (SIGTERM, SIGKILL).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** How a control-plane process was started, enough to start it again from any process. */
export interface ProcessSpec {
  readonly name: string;
  readonly bin: string;
  readonly args: readonly string[];
  readonly logFile: string;
  /**
   * Extra environment of the process. The control plane puts {@link OWNER_ENV} here, so its processes can be
   * found (and killed) by that marker even after their pid file and directory are gone.
   */
  readonly env?: Readonly<Record<string, string>>;
}

/** The environment variable that marks every process of one control plane; its value is the control plane's directory. */
export const OWNER_ENV = 'KWATCH_TESTENV_DIR';

/**
 * Starts a process detached in a process group of its own (so one signal reaches it
 * and anything it forks), stdout and stderr appended to its log file.
 */
export function startProcess(spec: ProcessSpec): number {
  const fd = openSync(spec.logFile, 'a');
  try {
    const env = { ...process.env, ...spec.env };
    const child = spawn(spec.bin, [...spec.args], { detached: true, stdio: ['ignore', fd, fd], env });
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
 * Ends a process group: SIGTERM, then SIGKILL after `graceMs` (a kube-apiserver whose etcd is gone can ignore
 * SIGTERM for ever). Resolves once the leader is gone, or `killWaitMs` after SIGKILL at the latest.
 * Safe to call for a PID that already exited.
 */
export async function stopProcessGroup(pid: number, graceMs = 5_000, killWaitMs = 5_000): Promise<void> {
  if (!isAlive(pid)) return;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (!isAlive(pid)) return;
  signalGroup(pid, 'SIGKILL');
  const killDeadline = Date.now() + killWaitMs;
  while (isAlive(pid) && Date.now() < killDeadline) await sleep(20);
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Every live process whose environment carries `OWNER_ENV=<dir>`: the processes of one control plane, wherever
 * (and by whichever handle) they were started. Linux only (reads `/proc`); elsewhere an empty list.
 */
export function processesMarkedWith(dir: string): number[] {
  const marker = `${OWNER_ENV}=${dir}`;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isSafeInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker) && isAlive(pid)) found.push(pid);
    } catch {
      /* gone, or not ours to read */
    }
  }
  return found;
}

/** Records the PIDs the watchdog must kill; rewritten whenever a process is restarted. */
export function writePidFile(file: string, pids: readonly number[]): void {
  writeFileSync(file, `${pids.join('\n')}\n`);
}

/**
 * Starts a tiny shell watchdog, detached, that kills every process group named in
 * `pidFile` as soon as `ownerPid` is gone — even when the owner died from SIGKILL and
 * ran no cleanup — and every process marked with `OWNER_ENV=<markerDir>` (so a process
 * restarted by another handle is found even if the pid file was not current): SIGTERM,
 * then SIGKILL 5 s later. It exits by itself once the owner is gone.
 */
export function startWatchdog(ownerPid: number, pidFile: string, markerDir?: string): number {
  const marked = markerDir
    ? `$(for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < "$f" 2>/dev/null | grep -qxF '${OWNER_ENV}=${markerDir}' && p="\${f#/proc/}" && echo "\${p%/environ}"; done)`
    : '';
  const killAll = (sig: string): string =>
    `for p in $(cat '${pidFile}' 2>/dev/null) ${marked}; do kill -${sig} -- -$p 2>/dev/null || kill -${sig} $p 2>/dev/null; done`;
  const script = [`while kill -0 ${ownerPid} 2>/dev/null; do sleep 1; done`, killAll('TERM'), 'sleep 5', killAll('KILL')].join(
    '\n',
  );
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
