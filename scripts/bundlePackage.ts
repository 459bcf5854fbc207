// Builds a package's JavaScript as one ES module per entry point (its own modules bundled; dependencies left as imports).
/**
 * A package built file by file loads as one ES module per source file: for @kwatch/watch-core ~60 modules, and Node
 * keeps ~100 KB of native memory per module it loads (measured: `import '@kwatch/watch-core'` +20.6 MB of RSS file
 * by file, +12.6 MB bundled). So the published JavaScript is bundled: each entry point one module, code loaded on
 * demand (`import('./connections.ts')`) a chunk of its own under dist/chunks/, every dependency (`p-queue`, `undici`,
 * `@kwatch/models`, `node:*`) an import as before. Types stay tsc's, file by file (`--emitDeclarationOnly`).
 *
 *   node scripts/bundlePackage.ts <packageDir> <name=src/entry.ts> [...]
 *
 * Replaces dist/ (declarations first, then the bundles and their source maps, which point into the shipped src/).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { rolldown } from 'rolldown';

const [dir, ...entries] = process.argv.slice(2);
if (!dir || entries.length === 0) {
  console.error('usage: node scripts/bundlePackage.ts <packageDir> <name=src/entry.ts> [...]');
  process.exit(2);
}
const pkg = resolve(dir);
const input = Object.fromEntries(
  entries.map((e) => {
    const [name, file] = e.split('=');
    if (!name || !file) throw new Error(`bundlePackage: '${e}' is not <name>=<src/entry.ts>`);
    return [name, join(pkg, file)];
  }),
);

rmSync(join(pkg, 'dist'), { recursive: true, force: true });
const tsc = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsc');
execFileSync(tsc, ['-p', join(pkg, 'tsconfig.build.json'), '--emitDeclarationOnly'], { stdio: 'inherit' });

const bundle = await rolldown({
  input,
  platform: 'node',
  // Only the package's own files (relative or absolute paths) are bundled; a bare specifier is a dependency.
  external: (id) => !id.startsWith('.') && !isAbsolute(id),
  treeshake: true,
});
try {
  await bundle.write({
    dir: join(pkg, 'dist'),
    format: 'esm',
    sourcemap: true,
    entryFileNames: '[name].js',
    chunkFileNames: 'chunks/[name]-[hash].js',
  });
} finally {
  await bundle.close();
}
