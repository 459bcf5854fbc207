/**
 * The sync peers' line protocol on stdout (shared by every language): `ready` once configured,
 * `synced <n>` when the initial state is complete, `done <modified> <named>` after the updates,
 * then the peer waits for stdin to close so the harness can read its CPU and peak RSS first.
 */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function args(): { namespace: string; objects: number; updates: number } {
  const [namespace, objects, updates] = process.argv.slice(2);
  if (!namespace || !objects || !updates) {
    console.error('usage: <peer> <namespace> <objects> <updates>');
    process.exit(2);
  }
  return { namespace, objects: Number(objects), updates: Number(updates) };
}

export async function waitForStdinEnd(): Promise<void> {
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once('end', resolve));
}
