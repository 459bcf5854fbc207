/**
 * A benchmark peer in a process of its own, speaking the line protocol of
 * bench/peers/node/protocol.ts (`ready`, `synced n`, `done …`, then exit when stdin closes).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export class PeerProcess {
  readonly child: ChildProcess;
  readonly #lines: string[] = [];
  #waiters: Array<() => void> = [];
  #exited: string | undefined;

  constructor(name: string, cmd: string, args: string[], env: Record<string, string>) {
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      this.#lines.push(line);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.child.on('exit', (code, signal) => {
      this.#exited = `${name} exited (${code ?? signal})`;
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  /** Resolves with the words of the next line starting with `word`. */
  async expect(word: string, timeoutMs = 300_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#lines.findIndex((l) => l.split(' ')[0] === word);
      if (i >= 0) return (this.#lines.splice(0, i + 1).pop() as string).split(' ').slice(1);
      if (this.#exited) throw new Error(`${this.#exited} before '${word}'`);
      if (Date.now() > deadline) throw new Error(`no '${word}' within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 1000).unref();
      });
    }
  }

  async finish(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin?.end();
    await exited;
  }
}
