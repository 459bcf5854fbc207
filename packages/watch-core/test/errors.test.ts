// The error table decides class and `retryable` by code; nothing in the sources contradicts it, no class can be
// built with another class's code, and errors are imported from one place.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as models from '@kwatch/models';
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  ConfigError,
  DecodeError,
  ERROR_CODES,
  errorFor,
  GoneError,
  KindError,
  KwatchError,
  type KwatchErrorCode,
  TransportError,
} from '../src/index.ts';

const CLASSES = { KwatchError, KindError, ApiError, GoneError, DecodeError, TransportError, ConfigError };
type ClassName = keyof typeof CLASSES;
const codes = Object.keys(ERROR_CODES) as KwatchErrorCode[];
const repo = join(import.meta.dirname, '../../..');

function sources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.name === 'node_modules' || e.name === 'dist'
      ? []
      : e.isDirectory()
        ? sources(join(dir, e.name))
        : /\.(ts|mts|mjs)$/.test(e.name)
          ? [join(dir, e.name)]
          : [],
  );
}

/** Every TypeScript file of the workspace: each package's src, test and scripts, and the examples, bench, soak, scripts. */
function workspaceFiles(): string[] {
  const packages = readdirSync(join(repo, 'packages')).flatMap((pkg) =>
    ['src', 'test', 'scripts'].flatMap((dir) => sources(join(repo, 'packages', pkg, dir))),
  );
  return [...packages, ...['examples', 'bench', 'soak', 'scripts'].flatMap((dir) => sources(join(repo, dir)))];
}

/** Builds `cls` with `code` (an ApiError and a GoneError need an httpStatus). */
function build(cls: ClassName, code: string): Error {
  const Ctor = CLASSES[cls] as unknown as new (code: string, message: string, init: object) => Error;
  return new Ctor(code, 'm', { httpStatus: 500 });
}

describe('the error table', () => {
  it.each(codes)('%s: errorFor builds its class, with its retryable', (code) => {
    const { class: cls, retryable } = ERROR_CODES[code];
    const e = errorFor(code, 'm', { httpStatus: 500 });
    expect(e.constructor).toBe(CLASSES[cls]);
    expect(e.name).toBe(cls);
    expect(e.code).toBe(code);
    expect(e.retryable).toBe(retryable);
    expect(e).toBeInstanceOf(KwatchError);
  });

  it('every `new XError(code, …)` in the workspace (every package, its tests, examples, bench, soak) uses the class the table gives that code', () => {
    const found: string[] = [];
    const wrong: string[] = [];
    for (const file of workspaceFiles()) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/new (\w*Error)\(\s*'([A-Z_]+)'/g)) {
        const [, cls, code] = m as unknown as [string, string, string];
        if (!(cls in CLASSES)) continue;
        found.push(`${cls}(${code})`);
        const entry = ERROR_CODES[code as KwatchErrorCode];
        const where = relative(repo, file);
        if (!entry) wrong.push(`${where}: ${cls}('${code}'): no such code`);
        else if (entry.class !== cls) wrong.push(`${where}: ${cls}('${code}') but the table says ${entry.class}`);
      }
    }
    expect(found.length).toBeGreaterThan(40);
    expect(wrong).toEqual([]);
  });

  it("a class cannot be built with another class's code: a TypeError naming both (every class × every code)", () => {
    for (const cls of Object.keys(CLASSES) as ClassName[]) {
      for (const code of codes) {
        const owner = ERROR_CODES[code].class;
        if (owner === cls) {
          const e = build(cls, code);
          expect(e.constructor).toBe(CLASSES[cls]);
          expect((e as KwatchError).code).toBe(code);
        } else {
          expect(() => build(cls, code)).toThrow(
            new TypeError(`${cls} cannot be built with code ${code}: ERROR_CODES gives ${code} to ${owner}`),
          );
        }
      }
    }
  });

  it('an unknown code is refused at run time too (plain JavaScript callers, `as never`)', () => {
    const nope = 'NOPE';
    expect(() => new KwatchError(nope as never, 'm')).toThrow(
      new TypeError('KwatchError cannot be built with code "NOPE": it is not a kwatch error code (ERROR_CODES)'),
    );
    expect(() => new TransportError('toString' as never, 'm')).toThrow(TypeError);
    expect(() => new ConfigError(undefined as never, 'm')).toThrow(/ConfigError cannot be built with code undefined/);
  });

  it('a class accepts only its own codes at compile time (a test of tsc: each line is an error it must report)', () => {
    // Codes held in constants, so that the scan of `new XError('CODE'` above does not read these on purpose wrong ones.
    const [gone, network, forbidden, invalid, kubeconfig] = [
      'GONE',
      'NETWORK_ERROR',
      'FORBIDDEN',
      'INVALID_OPTION',
      'KUBECONFIG_ERROR',
    ] as const;
    const attempts = [
      // @ts-expect-error GONE is a GoneError code
      () => new KwatchError(gone, 'm'),
      // @ts-expect-error NETWORK_ERROR is a TransportError code
      () => new ConfigError(network, 'm'),
      // @ts-expect-error GONE is not an ApiError code (it is GoneError's)
      () => new ApiError(gone, 'm', { httpStatus: 410 }),
      // @ts-expect-error FORBIDDEN is an ApiError code, not a GoneError one
      () => new GoneError(forbidden, 'm', { httpStatus: 403 }),
      // @ts-expect-error INVALID_OPTION is a KwatchError code
      () => new KindError(invalid, 'm'),
      // @ts-expect-error KUBECONFIG_ERROR is a ConfigError code
      () => new DecodeError(kubeconfig, 'm'),
    ];
    for (const attempt of attempts) expect(attempt).toThrow(TypeError);
  });

  it("a subclass of a kwatch class takes that class's codes", () => {
    class CustomTransportError extends TransportError {}
    expect(new CustomTransportError('STALLED', 'm').code).toBe('STALLED');
    expect(() => new CustomTransportError('GONE' as never, 'm')).toThrow(/TransportError cannot be built with code GONE/);
  });

  it('watch-core and models hand out the same classes (one definition)', () => {
    const fromModels: Record<ClassName, unknown> = {
      KwatchError: models.KwatchError,
      KindError: models.KindError,
      ApiError: models.ApiError,
      GoneError: models.GoneError,
      DecodeError: models.DecodeError,
      TransportError: models.TransportError,
      ConfigError: models.ConfigError,
    };
    for (const cls of Object.keys(CLASSES) as ClassName[]) expect(fromModels[cls]).toBe(CLASSES[cls]);
    expect(models.ERROR_CODES).toBe(ERROR_CODES);
  });

  it('errors are imported from one place: in models its errors.ts, in watch-core internal/ (which alone reads @kwatch/models for them), above it @kwatch/watch-core', () => {
    const names = new Set([
      ...Object.keys(CLASSES),
      'isKwatchError',
      'ERROR_CODES',
      'KwatchErrorCode',
      'CodesOf',
      'KwatchErrorClass',
    ]);
    const wrong: string[] = [];
    for (const pkg of readdirSync(join(repo, 'packages'))) {
      for (const file of sources(join(repo, 'packages', pkg, 'src'))) {
        const where = relative(repo, file);
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'([^']+)'/g)) {
          const [, list, from] = m as unknown as [string, string, string];
          const imported = list
            .split(',')
            .map(
              (n) =>
                n
                  .trim()
                  .replace(/^type\s+/, '')
                  .split(/\s+as\s+/)[0],
            )
            .filter((n): n is string => Boolean(n) && names.has(n as string));
          if (imported.length === 0) continue;
          const allowed =
            pkg === 'models'
              ? from === './errors.ts'
              : pkg === 'watch-core'
                ? where.includes('/src/internal/')
                  ? from === './errors.ts' || (where.endsWith('internal/errors.ts') && from === '@kwatch/models')
                  : /^\.\.\/internal\/index\.ts$/.test(from) || (where.endsWith('src/index.ts') && from === './internal/index.ts')
                : from === '@kwatch/watch-core';
          if (!allowed) wrong.push(`${where}: ${imported.join(', ')} from '${from}'`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it.each([
    ['NO_PROGRESS', TransportError, true],
    ['INDEX_FUNCTION_FAILED', KwatchError, false],
  ] as const)('%s is a %O, retryable: %s', (code, cls, retryable) => {
    expect(ERROR_CODES[code]).toEqual({ class: cls.name, retryable });
    const e = errorFor(code, 'm');
    expect(e.constructor).toBe(cls);
    expect(e).toMatchObject({ name: cls.name, code, retryable });
  });

  it('NO_PROGRESS and INDEX_FUNCTION_FAILED belong to their class only', () => {
    const [noProgress, indexFailed] = ['NO_PROGRESS', 'INDEX_FUNCTION_FAILED'] as const;
    expect(new TransportError(noProgress, 'm').retryable).toBe(true);
    expect(new KwatchError(indexFailed, 'm', { cause: new Error('x') }).cause).toEqual(new Error('x'));
    // @ts-expect-error NO_PROGRESS is a TransportError code
    expect(() => new KwatchError(noProgress, 'm')).toThrow(
      new TypeError('KwatchError cannot be built with code NO_PROGRESS: ERROR_CODES gives NO_PROGRESS to TransportError'),
    );
    // @ts-expect-error INDEX_FUNCTION_FAILED is a KwatchError code
    expect(() => new TransportError(indexFailed, 'm')).toThrow(
      new TypeError(
        'TransportError cannot be built with code INDEX_FUNCTION_FAILED: ERROR_CODES gives INDEX_FUNCTION_FAILED to KwatchError',
      ),
    );
  });

  it('a retryable flag cannot be set case by case any more', () => {
    // @ts-expect-error retryable is decided by the code
    const e = new TransportError('NETWORK_ERROR', 'x', { retryable: false });
    expect(e.retryable).toBe(true);
  });
});
