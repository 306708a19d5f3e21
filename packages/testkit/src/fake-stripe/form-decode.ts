/**
 * Decodes an `application/x-www-form-urlencoded` body or query string the way Stripe reads the client's
 * encoding: `metadata[tenant]=t1`, `items[0][price]=price_1`, `expand[0]=customer` or `expand[]=customer`.
 * The result keeps the bracket structure; what it means (object, map or array) is decided by the parameter tree.
 * Bounded: a stranger controls every byte of it.
 */
import { stripeErrors } from './errors.js';

export type FormValue = string | FormBranch;

export interface FormBranch {
  kind: 'branch';
  /** `a[key]=…` and `a[0]=…` children, in order of first appearance. */
  entries: Map<string, FormValue>;
  /** `a[]=…` children. */
  appended: FormValue[];
}

export const FORM_LIMITS = { pairs: 5000, depth: 8, keyLength: 500 } as const;

export const emptyBranch = (): FormBranch => ({ kind: 'branch', entries: new Map(), appended: [] });

const decode = (s: string, what: string): string => {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw stripeErrors.invalidRequest(`Invalid request: the ${what} ${JSON.stringify(s.slice(0, 100))} is not valid percent-encoding.`);
  }
};

export const formPath = (name: string, segments: readonly string[]) => `${name}${segments.map((s) => `[${s}]`).join('')}`;

export function decodeForm(text: string): FormBranch {
  const root = emptyBranch();
  if (text === '') return root;
  const pairs = text.split('&');
  if (pairs.length > FORM_LIMITS.pairs) {
    throw stripeErrors.invalidRequest(`Invalid request: ${pairs.length} parameters; the fake accepts at most ${FORM_LIMITS.pairs}.`);
  }
  for (const pair of pairs) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq), 'parameter name');
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1), 'value');
    if (key.length > FORM_LIMITS.keyLength) throw stripeErrors.invalidRequest(`Invalid parameter name: longer than ${FORM_LIMITS.keyLength} characters.`);
    const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
    if (!m) throw stripeErrors.invalidRequest(`Invalid parameter name: ${key}`, key);
    const segments = m[2] === '' ? [] : m[2].slice(1, -1).split('][');
    if (segments.length > FORM_LIMITS.depth) throw stripeErrors.invalidRequest(`Invalid parameter name: ${key} is nested deeper than ${FORM_LIMITS.depth} levels.`, key);
    insert(root, m[1], segments, value, key);
  }
  return root;
}

function insert(root: FormBranch, name: string, segments: string[], value: string, key: string): void {
  const path = [name, ...segments];
  let branch = root;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    const last = i === path.length - 1;
    if (segment === '') {
      // `a[]=x`: append a scalar. Stripe's client never sends `a[][b]=…`.
      if (!last) throw stripeErrors.invalidRequest(`Invalid array: ${key} (use indexed arrays, e.g. ${formPath(name, segments.map((s) => s || '0'))})`, key);
      branch.appended.push(value);
      return;
    }
    const existing = branch.entries.get(segment);
    if (last) {
      if (existing !== undefined) {
        throw stripeErrors.invalidRequest(`Invalid request: ${key} is sent twice, or both as a value and as a nested object.`, key);
      }
      branch.entries.set(segment, value);
      return;
    }
    if (typeof existing === 'string') {
      throw stripeErrors.invalidRequest(`Invalid request: ${formPath(name, path.slice(1, i + 1))} is sent both as a value and as a nested object.`, key);
    }
    const next = existing ?? emptyBranch();
    branch.entries.set(segment, next);
    branch = next;
  }
}
