/** Checks a request's parameters against an operation's schema, with PVE's messages (pve-common JSONSchema.pm). */
import { checkScalar } from './pve-formats.js';
import type { PveOperation } from './schema/pve-schema-types.js';

/** Over HTTP PVE accepts exactly '1' and '0' for booleans (check_type), not 'true'. */
function typeProblem(type: string, value: string): string | null {
  if (type === 'boolean' && value !== '1' && value !== '0') return `type check ('boolean') failed - got '${value}'`;
  return null;
}

/**
 * Returns `{param: message}` for every problem (PVE reports them all at once), or null when the request is valid.
 * `input` holds the query or form parameters plus the path parameters.
 */
export function checkParams(op: PveOperation, input: Record<string, string>): Record<string, string> | null {
  const errors: Record<string, string> = {};
  for (const [name, schema] of Object.entries(op.params)) {
    const value = input[name];
    if (value === undefined) {
      if (!schema.optional) errors[name] = 'property is missing and it is not optional';
      continue;
    }
    const problem = typeProblem(schema.type, value) ?? (schema.type === 'boolean' ? null : checkScalar(schema, value));
    if (problem) errors[name] = problem;
  }
  for (const name of Object.keys(input)) {
    if (!op.params[name]) errors[name] = 'property is not defined in schema and the schema does not allow additional properties';
  }
  return Object.keys(errors).length ? errors : null;
}
