// What the CLI reads and writes instead of the process: output lines, colour, the environment, Ctrl-C.
/** Where the CLI writes; injectable for tests. */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  colour: boolean;
  /** The environment (`KUBECONFIG`, `HOME`, `K8S_*`); the CLI never reads or changes `process.env` itself. */
  env: Record<string, string | undefined>;
  /** Resolves when the user asks to stop (Ctrl-C). */
  interrupted: Promise<void>;
}
