// startHealthServer's options: validated and defaulted (DEFAULTS.health) before anything listens.
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../src/defaults.ts';
import { resolveHealthServerOptions, startHealthServer } from '../src/health.ts';

const sources = () => [];

describe('startHealthServer options', () => {
  it.each([
    [{ sources }, 'Expected `port` to be a port number (0 to 65535), got undefined'],
    [{ port: 70_000, sources }, 'Expected `port` to be a port number (0 to 65535), got 70000'],
    [{ port: 0 }, 'Expected `sources` to be a function, got undefined'],
    [{ port: 0, sources, livenessWindowMs: 0 }, 'Expected `livenessWindowMs` to be a positive number of milliseconds, got 0'],
    [{ port: 0, sources, host: '' }, 'Expected `host` to be a non-empty string, got ""'],
    [{ port: 0, sources, livenessWindow: 5 }, 'Unknown option `livenessWindow`'],
  ])('%o is an INVALID_OPTION naming it', async (options, message) => {
    await expect(startHealthServer(options as never)).rejects.toMatchObject({ code: 'INVALID_OPTION', message });
  });

  it('applies the defaults: 127.0.0.1, a 5-minute liveness window', async () => {
    expect(resolveHealthServerOptions({ port: 0, sources })).toMatchObject({ host: '127.0.0.1', livenessWindowMs: 300_000 });
    expect(DEFAULTS.health).toEqual({ host: '127.0.0.1', livenessWindowMs: 300_000 });
    const server = await startHealthServer({ port: 0, sources });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await server.close();
    }
  });
});
