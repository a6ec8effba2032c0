/**
 * The project's own ESLint rule `local/no-await-while-promise-unhandled`
 * (eslint/no-await-while-promise-unhandled.mjs): it reports a promise
 * started before an `await` that can throw while nothing handles the promise
 * yet, and leaves the safe shapes alone. Run with ESLint's RuleTester on
 * code type-checked in a scratch TypeScript project.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import ts from 'typescript';
import { repoRoot } from '../helpers/env';

const dir = mkdtempSync(join(tmpdir(), 'lint-rule-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * One TypeScript program per case, built here from the case's code in memory:
 * the rule sees exactly the types of that code (no watch program whose cache
 * could serve an earlier case's text).
 */
function programFor(filename: string, code: string): ts.Program {
  const options: ts.CompilerOptions = { strict: true, target: ts.ScriptTarget.ES2022, lib: ['lib.es2023.d.ts'], types: [], noEmit: true };
  const host = ts.createCompilerHost(options, true);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (f) => (f === filename ? code : readFile(f));
  host.fileExists = (f) => f === filename || ts.sys.fileExists(f);
  host.getSourceFile = (f, lang, onError, create) =>
    f === filename ? ts.createSourceFile(f, code, lang, true) : getSourceFile(f, lang, onError, create);
  const program = ts.createProgram([filename], options, host);
  const problems = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (problems.length > 0) throw new Error(`lint-rule case does not type-check: ${ts.flattenDiagnosticMessageText(problems[0]!.messageText, ' ')}`);
  return program;
}

const prelude = `declare function read(): Promise<number>;
declare function uri(): Promise<string>;
declare function get(u: string): Promise<number>;
declare function together<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]>;
`;

test('no-await-while-promise-unhandled: reports the orphaning shapes, accepts the safe ones', async () => {
  const { RuleTester } = (await import('eslint')) as typeof import('eslint');
  const tseslint = (await import('typescript-eslint')).default;
  const rule = (await import(pathToFileURL(join(repoRoot, 'eslint', 'no-await-while-promise-unhandled.mjs')).href)).default;
  // RuleTester runs its cases through node:test's `test` when it finds none of its own hooks: give it ours.
  RuleTester.describe = (_name: string, fn: () => void) => fn();
  RuleTester.it = (_name: string, fn: () => void) => fn();
  RuleTester.itOnly = RuleTester.it;
  const tester = new RuleTester({ languageOptions: { parser: tseslint.parser } });
  let n = 0;
  const valid = (body: string): { code: string; filename: string; languageOptions: { parserOptions: { programs: ts.Program[] } } } => {
    const code = `${prelude}export async function f() { ${body} }`;
    const filename = join(dir, `case-${n++}.ts`);
    return { code, filename, languageOptions: { parserOptions: { programs: [programFor(filename, code)] } } };
  };
  const invalid = (body: string, messageId: string): ReturnType<typeof valid> & { errors: Array<{ messageId: string }> } => ({
    ...valid(body),
    errors: [{ messageId }],
  });
  tester.run('no-await-while-promise-unhandled', rule, {
    valid: [
      // the URI awaited inside its own async function: nothing started before it can throw
      valid('return together(read(), (async () => get(await uri()))());'),
      valid('const u = await uri(); return together(read(), get(u));'),
      valid('const p = read(); return await p;'),
      valid('const p = read(); const n = await p; return n + (await read());'),
      // a handler is attached before the await
      valid('const p = read().catch(() => 0); const n = await read(); return (await p) + n;'),
      // an await that cannot throw (its promise is handled)
      valid('const p = read(); await uri().catch(() => ""); return p;'),
      valid('return [await read(), await read()];'),
    ],
    invalid: [
      invalid('return together(read(), get(`${await uri()}`));', 'argument'),
      invalid('return Promise.all([read(), get(await uri())]);', 'argument'),
      invalid('const p = read(); const n = await read(); return (await p) + n;', 'variable'),
      invalid('const p = read(); if (Math.random() > 1) { await uri(); } return p;', 'variable'),
    ],
  });
});
