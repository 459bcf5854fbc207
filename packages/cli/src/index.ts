// @kwatch/cli's API: argument parsing, kubeconfig loading, output formats, and main().
export { type CliOptions, parseArgs } from './args.ts';
export { kindFor } from './kinds.ts';
export { type KubeconfigSource, loadKubeconfig, SERVICE_ACCOUNT_TOKEN } from './kubeconfig.ts';
export { type Io, main } from './main.ts';
export {
  age,
  formatEvent,
  jsonLine,
  nameLine,
  OUTPUT_FORMATS,
  type OutputFormat,
  tableHeader,
  tableLine,
  wideLine,
  yamlDocument,
} from './output.ts';
