import type { Diagnostic } from '@wharf/contracts';

/** Codes from docs/diagnostics.md for problems found before a file reaches the validator. */
export const SOURCE_CODES = {
  FileTooLarge: 'WHARF101',
  NoManifest: 'WHARF143',
  UnreadableFile: 'WHARF150',
} as const;

export const fileDiagnostic = (file: string, code: string, message: string): Diagnostic => ({
  file,
  line: 1,
  column: 1,
  endLine: 1,
  endColumn: 1,
  severity: 'error',
  code,
  message,
});

export const firstError = (diagnostics: readonly Diagnostic[]): Diagnostic | undefined =>
  diagnostics.find((d) => d.severity === 'error');

/** "file:line:col message", as the Stalled condition and the CLI show a diagnostic. */
export const describeDiagnostic = (d: Diagnostic): string => `${d.file}:${d.line}:${d.column} ${d.message}`;
