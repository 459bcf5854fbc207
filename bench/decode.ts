/**
 * decode / slow-consumer: a stream server in its own process sends N realistic Pod events as fast
 * as they are read; each client runs in a process of its own; implementations alternate run by
 * run; medians of 5 rounds. Server and client are pinned to different cores (taskset) where the
 * machine has two, which keeps them from trading places and halves run-to-run noise. `slow` makes the consumer sleep 1 ms every 10 events.
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pinned } from './pin.ts';
import { median } from './stats.ts';

const flags = ['--conditions=@kwatch/source'];

/** Starts bench/stream-server.ts (pinned to core 0) serving `events` events per request; resolves with its port. */
export async function startStreamServer(events: number) {
  const [cmd, args] = pinned(0, [...flags, join(import.meta.dirname, 'stream-server.ts'), String(events)]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  return { port, stop: () => child.kill() };
}

export async function runDecode(
  options: { events?: number; rounds?: number; slow?: boolean; impls?: readonly string[] } = {},
): Promise<object[]> {
  const events = options.events ?? (options.slow ? 20_000 : 100_000);
  const rounds = options.rounds ?? 5;
  const server = await startStreamServer(events);
  const impls = options.impls ?? ['raw', 'kwatch', 'client-node'];
  const samples: Record<string, Array<{ ms: number; cpuMs: number; peakRssMB: number }>> = {};
  try {
    for (let r = 0; r < rounds; r++) {
      for (const impl of r % 2 === 0 ? impls : [...impls].reverse()) {
        const [cmd, args] = pinned(1, [
          ...flags,
          join(import.meta.dirname, 'decode-client.ts'),
          impl,
          server.port,
          String(events),
          options.slow ? '10' : '0',
        ]);
        const out = execFileSync(cmd, args, { encoding: 'utf8' });
        const list = samples[impl] ?? [];
        samples[impl] = list;
        list.push(JSON.parse(out.trim()));
      }
    }
  } finally {
    server.stop();
  }
  return impls.map((impl) => {
    const s = samples[impl] ?? [];
    const ms = median(s.map((x) => x.ms));
    const cpuMs = median(s.map((x) => x.cpuMs));
    return {
      scenario: options.slow ? 'slow-consumer' : 'decode',
      impl,
      events,
      eventsPerSec: Math.round((events / ms) * 1000),
      cpuSecPer100k: Number(((cpuMs / 1000) * (100_000 / events)).toFixed(2)),
      peakRssMB: median(s.map((x) => x.peakRssMB)),
      rounds,
    };
  });
}
