import { HttpAnswerError } from '../pipeline/errors.js';
import type { PipelineContext } from '../pipeline/pipeline-context.js';
import { isRecord, optionalString, stringList } from './config-values.js';
import { compilePattern } from './linear-regexp.js';
import type { StepFactory } from './step.js';

type Schema = Record<string, unknown>;

const typeOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' && Number.isInteger(v) ? 'integer' : typeof v;

function typeMatches(v: unknown, expected: string): boolean {
  const t = typeOf(v);
  if (expected === 'number') return t === 'number' || t === 'integer';
  if (expected === 'integer') return t === 'integer';
  return t === expected;
}

type Patterns = ReadonlyMap<string, RegExp>;

/** Compiles every `pattern` in a schema (nested properties and items too), refusing bad ones at start. */
export function compilePatterns(schema: Schema, where: string, out = new Map<string, RegExp>()): Map<string, RegExp> {
  if (typeof schema.pattern === 'string' && !out.has(schema.pattern)) out.set(schema.pattern, compilePattern(schema.pattern, where));
  if (isRecord(schema.items)) compilePatterns(schema.items, where, out);
  if (isRecord(schema.properties)) for (const sub of Object.values(schema.properties)) if (isRecord(sub)) compilePatterns(sub, where, out);
  return out;
}

/** Checks a value against the JSON Schema keywords pipeline apps use; returns messages naming each field. */
export function checkSchema(value: unknown, schema: Schema, at: string, problems: string[], missing: string[], patterns: Patterns = new Map()): void {
  const label = at || 'body';
  const types = stringList(schema.type);
  if (types.length && value !== undefined && !types.some((t) => typeMatches(value, t))) {
    problems.push(`${label}: expected ${types.join(' or ')}, got ${typeOf(value)}`);
    return;
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value)))
    problems.push(`${label}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  if (typeof value === 'string') {
    const len = [...value].length;
    if (typeof schema.minLength === 'number' && len < schema.minLength) problems.push(`${label}: must be at least ${schema.minLength} characters`);
    if (typeof schema.maxLength === 'number' && len > schema.maxLength) problems.push(`${label}: must be at most ${schema.maxLength} characters`);
    if (typeof schema.pattern === 'string' && !(patterns.get(schema.pattern) ?? compilePattern(schema.pattern, label)).test(value))
      problems.push(`${label}: must match pattern ${schema.pattern}`);
    if (schema.format === 'email' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) problems.push(`${label}: must be an email address`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) problems.push(`${label}: must be >= ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) problems.push(`${label}: must be <= ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) problems.push(`${label}: must have at least ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) problems.push(`${label}: must have at most ${schema.maxItems} items`);
    if (isRecord(schema.items)) for (const [i, item] of value.entries()) checkSchema(item, schema.items, `${label}[${i}]`, problems, missing, patterns);
  }
  if (isRecord(value)) {
    for (const field of stringList(schema.required)) {
      if (value[field] === undefined || value[field] === null) missing.push(at ? `${at}.${field}` : field);
    }
    if (isRecord(schema.properties))
      for (const [field, sub] of Object.entries(schema.properties))
        if (value[field] !== undefined && isRecord(sub)) checkSchema(value[field], sub, at ? `${at}.${field}` : field, problems, missing, patterns);
  }
}

/** step.validate: required_fields or json_schema (type, required, properties, min/max length, pattern, enum, minimum/maximum). */
export const validateInput: StepFactory = (spec) => {
  const c = spec.config;
  const strategy = optionalString(c, 'strategy') ?? (isRecord(c.schema) ? 'json_schema' : 'required_fields');
  const source = optionalString(c, 'source');
  const required = stringList(c.required_fields);
  const schema = isRecord(c.schema) ? c.schema : null;
  if (strategy === 'required_fields' && !required.length)
    throw new Error(`step ${spec.name} (step.validate): required_fields strategy needs a non-empty required_fields list`);
  if (strategy === 'json_schema' && !schema) throw new Error(`step ${spec.name} (step.validate): json_schema strategy needs a schema map`);
  if (strategy !== 'required_fields' && strategy !== 'json_schema')
    throw new Error(`step ${spec.name} (step.validate): unknown strategy "${strategy}" (json_schema, required_fields)`);

  const target = (ctx: PipelineContext): unknown => (source ? ctx.resolvePath(source) : ctx.current);
  const patterns = schema ? compilePatterns(schema, `step ${spec.name} (step.validate)`) : new Map<string, RegExp>();

  return {
    name: spec.name,
    type: spec.type,
    run(ctx) {
      const data = target(ctx);
      const problems: string[] = [];
      const missing: string[] = [];
      if (strategy === 'required_fields') {
        const obj = isRecord(data) ? data : {};
        for (const f of required) if (obj[f] === undefined || obj[f] === null) missing.push(f);
      } else if (schema) {
        checkSchema(isRecord(data) ? data : data ?? {}, schema, '', problems, missing, patterns);
      }
      if (missing.length) problems.unshift(`missing required fields: ${missing.join(', ')}`);
      if (problems.length) throw new HttpAnswerError(400, { error: problems.join('; '), ...(missing.length ? { missing } : {}), details: problems });
      return { output: {} };
    },
  };
};
