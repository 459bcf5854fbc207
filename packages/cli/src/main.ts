// The kwatch command: parse, configure, run; resolves with the process exit code.
import { parseArgs } from './args.ts';
import type { Io } from './io.ts';

export type { Io } from './io.ts';

/**
 * Runs `kwatch` with `argv` (without node and the script): parse → configuration → run over a multi-kind
 * `StreamWatch`. Resolves with the exit code: 0 stopped, 1 the watch failed, 2 usage, 31–36 configuration
 * (`exitCodeOf` and `EXIT_CODES` of `@kwatch/toolkit`; 33 an unknown kind, 36 no usable kubeconfig).
 */
export async function main(argv: string[], io: Io): Promise<number> {
  const options = parseArgs(argv, io.out, io.err);
  if (typeof options === 'number') return options;
  // Loaded once the arguments parsed: --help and usage errors need none of it.
  const [{ configure }, { run }, { isKwatchError }, { exitCodeOf }] = await Promise.all([
    import('./configure.ts'),
    import('./run.ts'),
    import('@kwatch/watch-core'),
    import('@kwatch/toolkit'),
  ]);
  try {
    return await run(await configure(options, io), io);
  } catch (err) {
    io.err(`kwatch: ${isKwatchError(err) || err instanceof Error ? err.message : String(err)}`);
    return exitCodeOf(err) ?? 1;
  }
}
