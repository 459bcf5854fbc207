/**
 * decode-instructions: the decode benchmark counted in CPU instructions by valgrind's callgrind
 * instead of seconds, because wall and CPU time on a shared 2-core machine swing by ±30 % from
 * run to run (docs/benchmarks.md). Each client decodes N events and, separately, 1 event; the
 * difference divided by N-1 is the instructions one event costs, startup excluded. valgrind runs
 * V8's threads one at a time; kwatch's count repeats within ~±3 %, the raw loop's less well (its
 * string concatenation depends on how the socket chunks the stream; docs/benchmarks.md). Slow: ~2 min per
 * run for 20,000 events. Needs valgrind (on every machine of this kind; otherwise it says so).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startStreamServer } from './decode.ts';

const run = promisify(execFile);
const flags = ['--conditions=@kwatch/source'];

async function instructions(dir: string, impl: string, port: string, events: number, clientDir: string): Promise<number> {
  const out = join(dir, `${impl}-${events}-${Math.random().toString(36).slice(2)}.cg`);
  await run(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${out}`,
      process.execPath,
      ...flags,
      join(clientDir, 'decode-client.ts'),
      impl,
      port,
      String(events),
      '0',
    ],
    { maxBuffer: 64 * 2 ** 20 },
  );
  const m = /^totals:\s+(\d+)/m.exec(readFileSync(out, 'utf8'));
  if (!m?.[1]) throw new Error(`no totals in ${out}`);
  return Number(m[1]);
}

export async function runDecodeInstructions(
  options: { events?: number; impls?: readonly string[]; clientDir?: string } = {},
): Promise<object[]> {
  try {
    await run('valgrind', ['--version']);
  } catch {
    return [{ scenario: 'decode-instructions', skipped: 'valgrind not found' }];
  }
  const events = options.events ?? 20_000;
  const impls = options.impls ?? ['raw', 'kwatch', 'client-node'];
  const clientDir = options.clientDir ?? import.meta.dirname;
  const dir = mkdtempSync(join(tmpdir(), 'kwatch-cg-'));
  const many = await startStreamServer(events);
  const one = await startStreamServer(1);
  try {
    const rows: object[] = [];
    for (const impl of impls) {
      // Two at a time: the machine's two cores.
      const [n, base] = await Promise.all([
        instructions(dir, impl, many.port, events, clientDir),
        instructions(dir, impl, one.port, 1, clientDir),
      ]);
      rows.push({
        scenario: 'decode-instructions',
        impl,
        events,
        instructionsPerEvent: Math.round((n - base) / (events - 1)),
        startupInstructions: base,
      });
    }
    return rows;
  } finally {
    many.stop();
    one.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
