/**
 * `expand[]` as Stripe applies it (https://docs.stripe.com/expand): each dotted path replaces an id with the
 * object it names, through lists' `data`, up to four levels deep. A path that names no expandable id is refused.
 */
import { stripeErrors } from './errors.js';

const MAX_DEPTH = 4;

type Lookup = (id: string) => object | undefined;

export function applyExpand(body: object, paths: readonly string[] | undefined, lookup: Lookup): object {
  if (!paths || paths.length === 0) return body;
  const out = structuredClone(body) as Record<string, unknown>;
  for (const path of paths) {
    const segments = path.split('.');
    if (segments.length > MAX_DEPTH + (segments[0] === 'data' ? 1 : 0)) {
      throw stripeErrors.parameterInvalid('expand', `You cannot expand more than ${MAX_DEPTH} levels of a property. Property: ${path}`);
    }
    expandAt(out, segments, path, lookup);
  }
  return out;
}

function expandAt(node: Record<string, unknown>, segments: string[], path: string, lookup: Lookup): void {
  const [head, ...rest] = segments;
  if (!(head in node)) throw stripeErrors.parameterInvalid('expand', `This property cannot be expanded (${path}).`);
  let value = node[head];
  if (typeof value === 'string') {
    const found = lookup(value);
    if (!found) throw stripeErrors.parameterInvalid('expand', `This property cannot be expanded (${path}).`);
    value = structuredClone(found);
    node[head] = value;
  } else if (rest.length === 0 && (value === null || typeof value === 'object')) {
    return; // null stays null; an embedded object is already expanded
  } else if (rest.length === 0) {
    throw stripeErrors.parameterInvalid('expand', `This property cannot be expanded (${path}).`);
  }
  if (rest.length === 0 || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) if (item && typeof item === 'object') expandAt(item as Record<string, unknown>, rest, path, lookup);
    return;
  }
  if (typeof value === 'object') expandAt(value as Record<string, unknown>, rest, path, lookup);
}
