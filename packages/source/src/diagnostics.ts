import type { Diagnostic } from '@wharf/contracts';

export { fileDiagnostic } from '@wharf/contracts';

export const firstError = (diagnostics: readonly Diagnostic[]): Diagnostic | undefined =>
  diagnostics.find((d) => d.severity === 'error');

/** "file:line:col message", as the Stalled condition and the CLI show a diagnostic. */
export const describeDiagnostic = (d: Diagnostic): string => `${d.file}:${d.line}:${d.column} ${d.message}`;
