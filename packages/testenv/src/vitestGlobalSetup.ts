// vitest global setup: one control plane shared by an integration run, handed to tests by inject().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';
import { saveState, startControlPlane } from './controlPlane.ts';

/** What the global setup hands to test files through vitest's `inject()`. */
export interface TestenvProvidedContext {
  /** Path of the shared control plane's state file; give it to `attachControlPlane()`. */
  kwatchTestenvState: string;
}

declare module 'vitest' {
  export interface ProvidedContext extends TestenvProvidedContext {}
}

/** The flags of the shared control plane: configmaps bypass the watch cache (deterministic 410 on compaction), and only tests compact. */
export const SHARED_APISERVER_FLAGS = ['--watch-cache-sizes=configmaps#0', '--etcd-compaction-interval=0'] as const;

/**
 * vitest `globalSetup`: starts one control plane for a whole integration run and stops
 * it afterwards. It never skips: if the control plane cannot start, the run fails.
 *
 * @example
 * ```ts
 * // vitest.config.ts
 * export default defineConfig({ test: { globalSetup: ['@kwatch/testenv/vitest-global-setup'] } });
 * // a test file
 * const cp = attachControlPlane(inject('kwatchTestenvState'));
 * ```
 */
export default async function setup(project: {
  provide: (key: 'kwatchTestenvState', value: string) => void;
}): Promise<() => Promise<void>> {
  const stateDir = mkdtempSync(join(tmpdir(), 'kwatch-vitest-'));
  const cp = await startControlPlane({
    extraApiserverFlags: SHARED_APISERVER_FLAGS,
    onProgress: (m) => process.stderr.write(`testenv: ${m}\n`),
  });
  const stateFile = join(stateDir, 'state.json');
  const attached = saveState(cp, stateFile);
  project.provide('kwatchTestenvState', stateFile);
  return async () => {
    await attached.stop();
    rmSync(stateDir, { recursive: true, force: true });
  };
}
