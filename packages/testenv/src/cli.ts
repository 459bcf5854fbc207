#!/usr/bin/env node
// The kwatch-testenv command: a real control plane in the background (up, down, status, build).
/**
 * kwatch-testenv: a real control plane in the background for you, kubectl or a demo.
 *
 *   kwatch-testenv up       builds if needed, starts, prints KUBECONFIG=<path>, returns
 *   kwatch-testenv down     stops what `up` started and removes its directory
 *   kwatch-testenv status   says whether it runs, and where
 *   kwatch-testenv build    only builds (or finds) the binaries
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeBuildProgress, ensureBinaries } from './build.ts';
import { attachControlPlane, saveState, startControlPlane } from './controlPlane.ts';
import { TestenvError } from './errors.ts';
import { cacheDir } from './paths.ts';
import { isAlive } from './processes.ts';

const USAGE = `usage: kwatch-testenv <up|down|status|build> [--apiserver-flag=--flag=value ...] [--feature-gate=Name=true ...]
  up       build if needed, start etcd + kube-apiserver in the background, print KUBECONFIG=<path>
  down     stop the control plane started by 'up' (no process is left behind)
  status   print whether it runs, its server and kubeconfig
  build    build (or find cached) kube-apiserver and etcd binaries
State lives in ${join(cacheDir(), 'testenv-up.json')} (KWATCH_CACHE_DIR moves it).`;

const stateFile = (): string => join(cacheDir(), 'testenv-up.json');
const log = (message: string): void => {
  process.stderr.write(`testenv: ${message}\n`);
};

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'apiserver-flag': { type: 'string', multiple: true },
      'feature-gate': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  switch (command) {
    case 'build': {
      const bins = await ensureBinaries({ onProgress: (p) => log(describeBuildProgress(p)) });
      process.stdout.write(`KUBE_APISERVER=${bins.kubeApiserver}\nETCD=${bins.etcd}\n`);
      return 0;
    }
    case 'up': {
      if (existsSync(stateFile())) {
        const running = attachControlPlane(stateFile());
        if (isAlive(running.state.apiserver.pid) && isAlive(running.state.etcd.pid)) {
          log(`already running at ${running.server}`);
          process.stdout.write(`KUBECONFIG=${running.kubeconfigPath}\n`);
          return 0;
        }
        await running.stop();
        rmSync(stateFile(), { force: true });
      }
      mkdirSync(cacheDir(), { recursive: true });
      const cp = await startControlPlane({
        killOnExit: false,
        extraApiserverFlags: values['apiserver-flag'] ?? [],
        featureGates: Object.fromEntries(
          (values['feature-gate'] ?? []).map((g) => {
            const [name = '', on = 'true'] = g.split('=');
            return [name, on === 'true'];
          }),
        ),
        onProgress: log,
      });
      saveState(cp, stateFile());
      log(`apiserver ${cp.server}; stop it with 'pnpm testenv down'`);
      process.stdout.write(`KUBECONFIG=${cp.kubeconfigPath}\n`);
      return 0;
    }
    case 'down': {
      if (!existsSync(stateFile())) {
        log('nothing is running');
        return 0;
      }
      const cp = attachControlPlane(stateFile());
      await cp.stop();
      rmSync(stateFile(), { force: true });
      log(`stopped (etcd pid ${cp.state.etcd.pid}, kube-apiserver pid ${cp.state.apiserver.pid})`);
      return 0;
    }
    case 'status': {
      if (!existsSync(stateFile())) {
        process.stdout.write('not running\n');
        return 1;
      }
      const { state } = attachControlPlane(stateFile());
      const etcd = isAlive(state.etcd.pid);
      const api = isAlive(state.apiserver.pid);
      process.stdout.write(
        `${etcd && api ? 'running' : 'degraded'}\n` +
          `kube-apiserver ${state.server} pid ${state.apiserver.pid} ${api ? 'up' : 'DOWN'}\n` +
          `etcd ${state.etcdUrl} pid ${state.etcd.pid} ${etcd ? 'up' : 'DOWN'}\n` +
          `KUBECONFIG=${state.kubeconfigPath}\nlogs: ${state.dir}\n`,
      );
      return etcd && api ? 0 : 1;
    }
    default:
      process.stderr.write(`unknown command '${command}'\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(err instanceof TestenvError ? `${err.code}: ${err.message}` : String(err));
    process.exit(1);
  },
);
