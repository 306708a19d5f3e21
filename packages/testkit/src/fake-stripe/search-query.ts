/**
 * A subset of Stripe's search query language (https://docs.stripe.com/search#search-query-language):
 * `field:'value'` (exact, case-insensitive), `field~'sub'` (substring, 3+ characters), `field>123` / `<` / `>=` / `<=`,
 * `metadata['key']:'value'`, `field:null`, a leading `-` to negate, and up to 10 clauses joined by spaces/`AND` or
 * by `OR` (not both). Fields are those Stripe lists for each resource; any other field is refused as Stripe does.
 */
import { stripeErrors } from './errors.js';

type FieldValue = string | number | boolean | null | undefined;

export interface SearchSpec<T> {
  resource: string;
  fields: Record<string, (o: T) => FieldValue>;
  metadata: (o: T) => Record<string, string>;
}

interface Clause {
  negate: boolean;
  field: string;
  metadataKey?: string;
  op: ':' | '~' | '>' | '<' | '>=' | '<=';
  value: string | number | null;
}

const CLAUSE =
  /(-)?(metadata\[(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\]|[a-z_.]+)(>=|<=|:|~|>|<)(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?)|(null))/y;
const JOIN = /\s+(AND|OR)\s+|\s+/y;
const unescape = (s: string) => s.replace(/\\(.)/g, '$1');

function parse(query: string): { clauses: Clause[]; join: 'AND' | 'OR' } {
  const clauses: Clause[] = [];
  const joins = new Set<string>();
  let at = 0;
  const fail = (why: string) => stripeErrors.parameterInvalid('query', `Invalid query at character ${at}: ${why}. See https://docs.stripe.com/search#search-query-language.`);
  const text = query.trim();
  while (at < text.length) {
    CLAUSE.lastIndex = at;
    const m = CLAUSE.exec(text);
    if (!m) throw fail('expected a clause such as email:\'jenny@example.com\'');
    const metadataKey = m[3] ?? m[4];
    const literal = m[6] ?? m[7];
    clauses.push({
      negate: m[1] === '-',
      field: metadataKey !== undefined ? 'metadata' : m[2],
      ...(metadataKey !== undefined ? { metadataKey: unescape(metadataKey) } : {}),
      op: m[5] as Clause['op'],
      value: literal !== undefined ? unescape(literal) : m[8] !== undefined ? Number(m[8]) : null,
    });
    at = CLAUSE.lastIndex;
    if (at >= text.length) break;
    JOIN.lastIndex = at;
    const j = JOIN.exec(text);
    if (!j) throw fail('expected AND, OR or a space between clauses');
    joins.add(j[1] ?? 'AND');
    at = JOIN.lastIndex;
  }
  if (clauses.length === 0) throw fail('the query is empty');
  if (clauses.length > 10) throw fail('at most 10 clauses');
  if (joins.size > 1) throw fail('AND and OR cannot be combined in one query');
  return { clauses, join: joins.has('OR') ? 'OR' : 'AND' };
}

export function searchFilter<T>(query: string, spec: SearchSpec<T>): (o: T) => boolean {
  const { clauses, join } = parse(query);
  for (const c of clauses) {
    if (c.field !== 'metadata' && !(c.field in spec.fields)) {
      throw stripeErrors.parameterInvalid(
        'query',
        `Field \`${c.field}\` is an unsupported search field for resource \`${spec.resource}\`. See http://stripe.com/docs/search#query-fields-for-${spec.resource} for a list of supported fields.`,
      );
    }
    if (c.op === '~' && (typeof c.value !== 'string' || c.value.length < 3)) {
      throw stripeErrors.parameterInvalid('query', 'Substring matching (~) needs a quoted value of at least 3 characters.');
    }
  }
  const test = (c: Clause, o: T): boolean => {
    const actual = c.field === 'metadata' ? spec.metadata(o)[c.metadataKey ?? ''] : spec.fields[c.field](o);
    let ok: boolean;
    if (c.value === null) ok = actual === null || actual === undefined;
    else if (c.op === ':') ok = actual !== null && actual !== undefined && String(actual).toLowerCase() === String(c.value).toLowerCase();
    else if (c.op === '~') ok = typeof actual === 'string' && actual.toLowerCase().includes(String(c.value).toLowerCase());
    else {
      const a = Number(actual);
      const v = Number(c.value);
      ok = c.op === '>' ? a > v : c.op === '<' ? a < v : c.op === '>=' ? a >= v : a <= v;
    }
    return c.negate ? !ok : ok;
  };
  return (o) => (join === 'AND' ? clauses.every((c) => test(c, o)) : clauses.some((c) => test(c, o)));
}
