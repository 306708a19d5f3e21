/** One finding about a file, 1-based positions, as editors and GitHub annotations expect. */
export const SEVERITIES = ['error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Severity;
  /** Stable code such as WHARF101, documented in docs/diagnostics.md. */
  code: string;
  message: string;
}

export const hasErrors = (diagnostics: readonly Diagnostic[]): boolean =>
  diagnostics.some((d) => d.severity === 'error');

export const formatDiagnostic = (d: Diagnostic): string =>
  `${d.file}:${d.line}:${d.column}  ${d.severity}  ${d.message}  ${d.code}`;

/** An error about a whole file (unreadable, too large, missing), placed at its first character. */
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
