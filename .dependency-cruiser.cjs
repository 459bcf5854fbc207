// The layer and cycle rules that `pnpm check:layers` (and CI) enforce on every package's src/.
// watch-core is six layers, bottom up: internal → client → sharding → watch → {multiplex, informers}; each entered only
// through its index.ts, and imports point down only (docs/architecture.md).
const WC = '^packages/watch-core/src/';
const layerBelow = {
  internal: [],
  client: ['internal'],
  sharding: ['internal', 'client'],
  watch: ['internal', 'client', 'sharding'],
  multiplex: ['internal', 'client', 'sharding', 'watch'],
  informers: ['internal', 'client', 'sharding', 'watch'],
};
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle (type-only imports count too): split the shared part into its own file.',
      from: { path: '^packages/[^/]+/src/' },
      to: { circular: true },
    },
    ...Object.entries(layerBelow).map(([layer, below]) => ({
      name: `layer-${layer}`,
      severity: 'error',
      comment: `watch-core/src/${layer}/ may import only ${below.length ? below.join(', ') : 'nothing of kwatch'} (layers point down).`,
      from: { path: `${WC}${layer}/` },
      to: {
        path: `${WC}(?!${[layer, ...below].join('|')})[^/]+/`,
      },
    })),
    {
      name: 'one-entrance-per-layer',
      severity: 'error',
      comment: 'Another layer is entered only through its index.ts.',
      from: { path: `${WC}([^/]+)/` },
      to: { path: `${WC}[^/]+/`, pathNot: [`${WC}$1/`, `${WC}[^/]+/index\\.ts$`] },
    },
    {
      name: 'root-entrance',
      severity: 'error',
      comment: "The package's index.ts re-exports the layers' index.ts files only.",
      from: { path: `${WC}index\\.ts$` },
      to: { path: `${WC}[^/]+/`, pathNot: `${WC}[^/]+/index\\.ts$` },
    },
    {
      name: 'no-flat-files',
      severity: 'error',
      comment: 'Every watch-core source file lives in a layer folder (only index.ts at the top).',
      from: { path: `${WC}(?!index\\.ts$)[^/]+\\.ts$` },
      to: {},
    },
    {
      name: 'no-deep-imports-between-packages',
      severity: 'error',
      comment: 'A package uses another only through its package name (its exports), never a path into its src/.',
      from: { path: '^packages/([^/]+)/src/' },
      to: { path: '^packages/([^/]+)/src/', pathNot: '^packages/$1/src/', dependencyTypes: ['local'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '/dist/', '\\.test\\.ts$', '\\.test-d\\.ts$'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { conditionNames: ['@kwatch/source', 'import', 'node', 'default'], exportsFields: ['exports'] },
    combinedDependencies: false,
  },
};
