import { CODE_SEVERITY, type Code } from '../codes.js';
import type { Diagnostic, Severity } from '../diagnostic.js';
import type { LinePositions } from './positions.js';

/** A [start, end) character range in the source text. */
export type Range = readonly [number, number, ...number[]];

/** Builds a diagnostic with 1-based line and column positions from a character range. */
export function diagnosticAt(
  file: string,
  lineCounter: LinePositions | undefined,
  range: Range | undefined,
  code: Code,
  message: string,
  severity: Severity = CODE_SEVERITY[code],
): Diagnostic {
  if (!range || !lineCounter) {
    return { file, line: 1, column: 1, endLine: 1, endColumn: 1, severity, code, message };
  }
  const start = lineCounter.linePos(range[0]);
  const end = lineCounter.linePos(Math.max(range[0], range[1]));
  return { file, line: start.line, column: start.col, endLine: end.line, endColumn: end.col, severity, code, message };
}

export const compareDiagnostics = (a: Diagnostic, b: Diagnostic): number =>
  a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.code.localeCompare(b.code);
