// What a person reads in the IDE: compiles snippets with the project's compiler options
// and checks the text of the diagnostics, not only that there is one.
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const config = ts.getParsedCommandLineOfConfigFile(
  join(root, 'tsconfig.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
if (!config) throw new Error('cannot read tsconfig.json');

function diagnose(snippets: Record<string, string>): Record<string, string[]> {
  const dir = join(import.meta.dirname, '__snippets__');
  const files = new Map(Object.entries(snippets).map(([name, body]) => [join(dir, `${name}.ts`), body]));
  const host = ts.createCompilerHost(config!.options);
  const read = host.readFile.bind(host);
  const exists = host.fileExists.bind(host);
  const getSource = host.getSourceFile.bind(host);
  host.readFile = (f) => files.get(f) ?? read(f);
  host.fileExists = (f) => files.has(f) || exists(f);
  host.getSourceFile = (f, lang, onError, create) =>
    files.has(f) ? ts.createSourceFile(f, files.get(f)!, lang) : getSource(f, lang, onError, create);
  const program = ts.createProgram([...files.keys()], { ...config!.options, noEmit: true }, host);
  const out: Record<string, string[]> = {};
  for (const [file] of files) {
    const name = file.slice(dir.length + 1, -3);
    out[name] = ts
      .getPreEmitDiagnostics(program, program.getSourceFile(file))
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  }
  return out;
}

const header = `import { watchTarget } from '@kwatch/models';
import { Node, Pod } from '@kwatch/models/v1';
import { SelfSubjectRulesReview } from '@kwatch/models/authorization.k8s.io/v1';
`;

describe('compile errors a person can understand', () => {
  const results = diagnose({
    nodeInNamespace: `${header}watchTarget(Node, { namespace: 'a' });`,
    notWatchable: `${header}watchTarget(SelfSubjectRulesReview);`,
    notAKind: `${header}watchTarget(42);`,
    fine: `${header}watchTarget(Pod, { namespace: 'a' }); watchTarget(Node);`,
  });

  it('Node in a namespace says so', () => {
    expect(results.nodeInNamespace).toHaveLength(1);
    expect(results.nodeInNamespace?.[0]).toContain(
      `Type '"a"' is not assignable to type '"" | "Node has no namespaced watcher support" | undefined'`,
    );
  });

  it('a kind that cannot be watched says so', () => {
    expect(results.notWatchable).toHaveLength(1);
    expect(results.notWatchable?.[0]).toContain('"SelfSubjectRulesReview has no watcher support"');
  });

  it('a value that is not a kind names KubernetesKind', () => {
    expect(results.notAKind?.[0]).toBe(
      `Argument of type '42' is not assignable to parameter of type 'KubernetesKind & "This value has no watcher support"'.\n` +
        `  Type 'number' is not assignable to type 'KubernetesKind'.`,
    );
  });

  it('the watchable cases have no diagnostics', () => {
    expect(results.fine).toEqual([]);
  });
}, 60_000);
