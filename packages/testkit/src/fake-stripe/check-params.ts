/**
 * Checks decoded form parameters against an endpoint's parameter tree (generated from the client's own
 * `*Params` declarations) and returns them typed: numbers as numbers, booleans as booleans, arrays as arrays,
 * and `''` as null where the declaration says `Emptyable` (Stripe's "unset"). Anything the declarations would not
 * let the client send is refused with the error Stripe gives for it (`parameter_unknown`, `parameter_missing`,
 * `parameter_invalid_empty`, `parameter_invalid_integer`, "Invalid …").
 */
import type { EndpointIndex } from './endpoint-table.js';
import type { ParamNode } from './endpoint-types.js';
import { stripeErrors } from './errors.js';
import type { FormBranch, FormValue } from './form-decode.js';

export type Decoded = string | number | boolean | null | Decoded[] | { [key: string]: Decoded };
export type DecodedParams = { [key: string]: Decoded };

/** Stripe's documented bounds (https://docs.stripe.com/metadata; strings up to 5000 characters). */
export const PARAM_LIMITS = { stringLength: 5000, metadataKeys: 50, metadataKeyLength: 40, metadataValueLength: 500 } as const;

const NUMBER = /^-?\d+(\.\d+)?$/;

const child = (path: string, key: string) => (path === '' ? key : `${path}[${key}]`);

function oneOf(values: readonly string[]): string {
  if (values.length <= 1) return values.join('');
  return `${values.slice(0, -1).join(', ')}, or ${values[values.length - 1]}`;
}

function describe(v: FormValue): string {
  if (typeof v === 'string') return v;
  return JSON.stringify(Object.fromEntries([...v.entries].map(([k, x]) => [k, typeof x === 'string' ? x : '{…}'])));
}

export function checkParams(form: FormBranch, root: ParamNode, index: EndpointIndex): DecodedParams {
  const resolve = (node: ParamNode): { node: Exclude<ParamNode, { type: 'ref' }>; ref?: string } => {
    let ref: string | undefined;
    let n = node;
    while (n.type === 'ref') {
      ref = n.ref;
      const def = index.definition(n.ref);
      n = n.emptyable ? { ...def, emptyable: true } : def;
    }
    return { node: n, ref };
  };

  const scalar = (v: FormValue, path: string, kind: string): string => {
    if (typeof v !== 'string') throw stripeErrors.parameterInvalid(path, `Invalid ${kind}: ${describe(v)}`);
    return v;
  };

  const branch = (v: FormValue, path: string, kind: 'object' | 'array'): FormBranch => {
    if (typeof v === 'string') throw stripeErrors.parameterInvalid(path, `Invalid ${kind}`);
    return v;
  };

  const value = (v: FormValue, node: ParamNode, path: string): Decoded => {
    const { node: n, ref } = resolve(node);
    if (v === '') {
      if (n.emptyable) return null;
      throw stripeErrors.parameterInvalidEmpty(path);
    }
    switch (n.type) {
      case 'string': {
        const s = scalar(v, path, 'string');
        if (n.enum && !n.enum.includes(s)) throw stripeErrors.parameterInvalid(path, `Invalid ${path}: must be one of ${oneOf(n.enum)}`);
        if (s.length > PARAM_LIMITS.stringLength) {
          throw stripeErrors.parameterInvalid(path, `Invalid string: ${path} must be at most ${PARAM_LIMITS.stringLength} characters`);
        }
        return s;
      }
      case 'number': {
        const s = scalar(v, path, 'integer');
        if (!NUMBER.test(s)) throw stripeErrors.parameterInvalidInteger(path, s);
        return Number(s);
      }
      case 'decimal': {
        const s = scalar(v, path, 'decimal');
        if (!NUMBER.test(s)) throw stripeErrors.parameterInvalid(path, `Invalid decimal: ${s}`);
        return s;
      }
      case 'boolean': {
        const s = scalar(v, path, 'boolean');
        if (s !== 'true' && s !== 'false') throw stripeErrors.parameterInvalid(path, `Invalid boolean: ${s}`);
        return s === 'true';
      }
      case 'object':
        return object(branch(v, path, 'object'), n, path);
      case 'map': {
        const b = branch(v, path, 'object');
        if (b.appended.length > 0) throw stripeErrors.parameterInvalid(path, 'Invalid object');
        const out: { [key: string]: Decoded } = {};
        for (const [k, x] of b.entries) out[k] = value(x, n.values, child(path, k));
        if (ref === 'MetadataParam') checkMetadata(out, path);
        return out;
      }
      case 'array': {
        const b = branch(v, path, 'array');
        if (b.appended.length > 0 && b.entries.size > 0) throw stripeErrors.parameterInvalid(path, 'Invalid array');
        if (b.appended.length > 0) return b.appended.map((x, i) => value(x, n.items, child(path, String(i))));
        const items: Decoded[] = [];
        for (let i = 0; i < b.entries.size; i++) {
          const x = b.entries.get(String(i));
          if (x === undefined) throw stripeErrors.parameterInvalid(path, `Invalid array: ${path} must be indexed 0 to ${b.entries.size - 1}`);
          items.push(value(x, n.items, child(path, String(i))));
        }
        return items;
      }
      case 'anyOf': {
        const fits = n.anyOf.filter((alt) => {
          const t = resolve(alt).node.type;
          return typeof v === 'string' ? !['object', 'map', 'array'].includes(t) : ['object', 'map', 'array', 'anyOf'].includes(t);
        });
        let first: unknown;
        for (const alt of fits) {
          try {
            return value(v, alt, path);
          } catch (err) {
            first ??= err;
          }
        }
        throw first ?? stripeErrors.parameterInvalid(path, `Invalid ${typeof v === 'string' ? 'value' : 'object'} for ${path}`);
      }
    }
  };

  const object = (b: FormBranch, n: Extract<ParamNode, { type: 'object' }>, path: string): { [key: string]: Decoded } => {
    if (b.appended.length > 0) throw stripeErrors.parameterInvalid(path, 'Invalid object');
    const out: { [key: string]: Decoded } = {};
    for (const [k, x] of b.entries) {
      const prop = n.properties[k];
      if (!prop) throw stripeErrors.parameterUnknown(child(path, k));
      out[k] = value(x, prop, child(path, k));
    }
    for (const k of n.required ?? []) if (!(k in out)) throw stripeErrors.parameterMissing(child(path, k));
    return out;
  };

  const top = resolve(root).node;
  if (top.type !== 'object') throw new Error('an endpoint parameter tree must be an object');
  return object(form, top, '');
}

function checkMetadata(metadata: { [key: string]: Decoded }, path: string): void {
  const keys = Object.keys(metadata);
  if (keys.length > PARAM_LIMITS.metadataKeys) {
    throw stripeErrors.parameterInvalid(path, `Metadata can have up to ${PARAM_LIMITS.metadataKeys} keys, but you passed in ${keys.length} keys.`);
  }
  for (const k of keys) {
    if (k.length > PARAM_LIMITS.metadataKeyLength) {
      throw stripeErrors.parameterInvalid(child(path, k), `Metadata keys can have up to ${PARAM_LIMITS.metadataKeyLength} characters, but you passed in a key with ${k.length} characters.`);
    }
    const v = metadata[k];
    if (typeof v === 'string' && v.length > PARAM_LIMITS.metadataValueLength) {
      throw stripeErrors.parameterInvalid(child(path, k), `Metadata values can have up to ${PARAM_LIMITS.metadataValueLength} characters, but you passed in a value with ${v.length} characters.`);
    }
  }
}
