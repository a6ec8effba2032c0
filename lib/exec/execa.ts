/**
 * execa 9 is ESM-only and our build emits CommonJS, so it is loaded with a
 * real dynamic `import()` (kept as-is by tsc under `"module": "node16"`),
 * once, on first use.
 */
export type ExecaModule = typeof import('execa', { with: { 'resolution-mode': 'import' } });

let loading: Promise<ExecaModule> | undefined;

export function loadExeca(): Promise<ExecaModule> {
  loading ??= import('execa');
  return loading;
}
