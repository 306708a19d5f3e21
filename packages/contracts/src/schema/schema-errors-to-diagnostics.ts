/**
 * Turns ajv errors into Wharf diagnostics at the right YAML position, with a stable code and a
 * message that says what to do. One problem, one diagnostic: the branch errors of a failed
 * oneOf/anyOf are folded into one.
 */
import type { ErrorObject } from 'ajv';
import { CODES, type Code } from '../codes.js';
import type { Diagnostic, Severity } from '../diagnostic.js';
import { didYouMean } from '../suggest.js';
import { diagnosticAt } from '../yaml/diagnostic-at.js';
import type { PathSegment } from '../yaml/locate.js';
import type { Positions } from '../yaml/positions.js';

/** Schema errors turned into diagnostics per validated value; the rest are summed up in one WHARF109. */
export const MAX_ERRORS = 200;

export interface ErrorVerdict {
  severity: Severity;
  /** A sentence appended to the message. */
  note?: string;
}

export interface SchemaErrorContext {
  file: string;
  positions: Positions;
  /** Path of the validated value inside the document (ajv paths are relative to it). */
  basePath?: readonly PathSegment[];
  /** Words that say where, e.g. `in the config of module "db" (database.workflow)`. */
  where?: string;
  /** Unknown keys are warnings in workflow configs (plugins add keys) and errors in Wharf's own files. */
  unknownKeySeverity?: Severity;
  /**
   * Decides per error: 'skip' drops it, a severity overrides the code's default, and a verdict may add a
   * sentence (for example what the engine does with it).
   */
  classify?: (error: ErrorObject) => 'skip' | Severity | ErrorVerdict | undefined;
}

const pointerToPath = (pointer: string): string[] =>
  pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));

export const describeValue = (value: unknown): string => {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value === 'number' ? 'the number' : 'the boolean'} ${String(value)}`;
};

const typeWords: Record<string, string> = {
  string: 'text',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  null: 'nothing',
};

export const describeType = (type: unknown): string =>
  (Array.isArray(type) ? type : String(type).split(','))
    .map((t) => typeWords[String(t)] ?? String(t))
    .join(' or ');

const hintOf = (schema: unknown): string | undefined =>
  typeof schema === 'object' && schema !== null && typeof (schema as Record<string, unknown>)['x-hint'] === 'string'
    ? ((schema as Record<string, unknown>)['x-hint'] as string)
    : undefined;

export function schemaErrorsToDiagnostics(errors: readonly ErrorObject[], ctx: SchemaErrorContext): Diagnostic[] {
  const base = ctx.basePath ?? [];
  const where = ctx.where ? ` ${ctx.where}` : '';
  const folded = new Set(
    errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').map((e) => `${e.instancePath}|${e.schemaPath}`),
  );
  const isInsideFolded = (e: ErrorObject) =>
    [...folded].some((key) => {
      const [path, schemaPath] = key.split('|') as [string, string];
      return e.instancePath.startsWith(path) && e.schemaPath.startsWith(`${schemaPath}/`);
    });
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  let severityOverride: Severity | undefined;
  let note: string | undefined;
  const emit = (code: Code, path: readonly PathSegment[], text: string, atKey: boolean) => {
    const full = [...base, ...path];
    const range = atKey ? ctx.positions.entryRange(full) : ctx.positions.valueRange(full);
    const severity = severityOverride ?? (code === CODES.UnknownKey ? ctx.unknownKeySeverity : undefined);
    const message = note ? `${text} ${note}` : text;
    const d = diagnosticAt(ctx.file, ctx.positions, range, code, message, severity);
    const key = `${d.line}:${d.column}:${code}:${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
  };
  for (const e of errors.slice(0, MAX_ERRORS)) {
    if (isInsideFolded(e)) continue;
    const decision = ctx.classify?.(e);
    if (decision === 'skip') continue;
    severityOverride = typeof decision === 'object' ? decision.severity : decision;
    note = typeof decision === 'object' ? decision.note : undefined;
    const path = pointerToPath(e.instancePath);
    const last = path[path.length - 1];
    const parent = path[path.length - 2];
    const label =
      last === undefined
        ? 'The document'
        : /^\d+$/.test(last)
          ? `${parent === undefined ? 'Item' : `"${parent}" item`} ${Number(last) + 1}`
          : `"${last}"`;
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required': {
        const missing = String(params.missingProperty);
        emit(CODES.MissingRequired, path, `Missing required key "${missing}"${where}: add it.`, true);
        break;
      }
      case 'additionalProperties': {
        const extra = String(params.additionalProperty);
        const known = Object.keys((e.parentSchema?.properties as object | undefined) ?? {});
        const hint = didYouMean(extra, known);
        emit(
          CODES.UnknownKey,
          [...path, extra],
          `Unknown key "${extra}"${where}.${hint || (known.length ? ` Known keys: ${known.slice(0, 12).join(', ')}.` : ' This object takes no keys.')}`,
          true,
        );
        break;
      }
      case 'type':
        emit(
          CODES.WrongType,
          path,
          `${label}${where} must be ${describeType(params.type)}, found ${describeValue(e.data)}.`,
          false,
        );
        break;
      case 'enum':
      case 'const': {
        const allowed = (e.keyword === 'enum' ? (params.allowedValues as unknown[]) : [params.allowedValue]).map(String);
        const hint = typeof e.data === 'string' ? didYouMean(e.data, allowed) : '';
        emit(
          CODES.NotAnOption,
          path,
          `${label}${where} is ${describeValue(e.data)}, not one of: ${allowed.join(', ')}.${hint}`,
          false,
        );
        break;
      }
      case 'oneOf':
      case 'anyOf':
        emit(CODES.InvalidValue, path, `${label}${where}: ${hintOf(e.schema === true ? undefined : e.parentSchema) ?? e.message ?? 'is not valid'}.`, false);
        break;
      default: {
        const hint = hintOf(e.parentSchema);
        emit(
          CODES.InvalidValue,
          path,
          `${label}${where} ${hint ? `is not valid: ${hint}` : `${e.message ?? 'is not valid'}`}.`,
          false,
        );
      }
    }
  }
  if (errors.length > MAX_ERRORS) {
    severityOverride = undefined;
    note = undefined;
    emit(
      CODES.MoreProblems,
      [],
      `${errors.length - MAX_ERRORS} more problems${where} are not shown: fix the ones above and validate again.`,
      true,
    );
  }
  return out;
}
