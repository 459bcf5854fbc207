export { type Io, main } from './main.ts';
export { jsonLine, tableHeader, tableLine } from './output.ts';
export { modelClass, resolveResource } from './resolve.ts';
