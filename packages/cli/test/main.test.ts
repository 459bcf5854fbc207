// The CLI's exit codes for failures before anything is watched: each from its error's code (toolkit's exitCodeOf).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@kwatch/watch-core';
import { describe, expect, it } from 'vitest';
import { type Io, loadKubeconfig, main } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'kwatch-cli-'));
const home = join(dir, 'home'); // no ~/.kube/config here

/** Runs the CLI with no cluster to reach: what it printed to stderr, and its exit code. */
async function kwatch(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const io: Io = {
    out: () => {},
    err: (l) => err.push(l),
    colour: false,
    env: { HOME: home, ...env },
    interrupted: new Promise(() => {}),
  };
  const code = await main(argv, io);
  return { code, err: err.join('\n') };
}

describe('exit codes before the watch (unchanged: 31-36)', () => {
  it('36: no usable kubeconfig', async () => {
    const r = await kwatch(['pods', '--kubeconfig', join(dir, 'missing')]);
    expect(r).toEqual({
      code: 36,
      err: expect.stringContaining(`kubeconfig ${join(dir, 'missing')} (--kubeconfig) does not exist`),
    });
    expect((await kwatch(['pods'])).code).toBe(36);
  });

  it('33: nothing to watch', async () => {
    expect(await kwatch([])).toEqual({ code: 33, err: expect.stringContaining('nothing to watch') });
  });

  it('31: a token without an endpoint (never shown)', async () => {
    const r = await kwatch(['pods'], { K8S_TOKEN: 'secret-123' });
    expect(r.code).toBe(31);
    expect(r.err).not.toContain('secret-123');
  });

  it('35: a config file that cannot be read, or a bad LOG_LEVEL', async () => {
    expect((await kwatch(['pods', '--config', join(dir, 'missing.ini')])).code).toBe(35);
    expect((await kwatch(['pods', '--log-level', 'loud'])).code).toBe(35);
  });
});

describe('loadKubeconfig', () => {
  it("fails with watch-core's ConfigError, KUBECONFIG_ERROR", () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'clusters: [\n');
    let error: unknown;
    try {
      loadKubeconfig({ path: bad, env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'KUBECONFIG_ERROR', message: expect.stringMatching(/is not valid YAML/) });
  });
});
