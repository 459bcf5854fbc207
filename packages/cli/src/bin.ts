#!/usr/bin/env node
// The kwatch executable: runs main() with the process's streams, environment and signals.
import { enableCompileCache } from 'node:module';

// Node's module compile cache (in the OS temp dir): later starts skip compiling kwatch and its dependencies.
enableCompileCache?.();
const { main } = await import('./main.ts');

let interrupt: () => void = () => {};
const interrupted = new Promise<void>((resolve) => {
  interrupt = resolve;
});
let count = 0;
process.on('SIGINT', () => {
  count += 1;
  if (count > 1) process.exit(130); // a second Ctrl-C does not wait
  interrupt();
});
process.on('SIGTERM', () => interrupt());

const code = await main(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  colour: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  env: process.env,
  interrupted,
});
process.exit(code);
