import { formatValue } from './format-value.js';

/**
 * The engine's collection template functions (module/pipeline_template.go): `sum`, `pluck`, `flatten`, `unique`,
 * `groupBy`, `sortBy`, and `min`/`max` over a list (optionally of maps, by key). Each is one pass (sortBy a sort)
 * over a value already in the context, so its cost is bounded by that value.
 */
type Fn = (...args: unknown[]) => unknown;

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const items = (v: unknown): unknown[] | null => (Array.isArray(v) ? v : null);
const field = (item: unknown, keys: unknown[]): unknown => (keys.length > 0 && isMap(item) ? item[formatValue(keys[0])] : item);
const toFloat = (v: unknown): number => {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  const n = Number.parseFloat(formatValue(v));
  return Number.isNaN(n) ? 0 : n;
};
const isInt = (v: unknown): boolean => (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';

function extreme(list: unknown[], keys: unknown[], better: (a: number, b: number) => boolean): unknown {
  if (list.length === 0) return null;
  let best = toFloat(field(list[0], keys));
  let allInt = isInt(field(list[0], keys));
  for (const item of list.slice(1)) {
    const v = field(item, keys);
    if (!isInt(v)) allInt = false;
    if (better(toFloat(v), best)) best = toFloat(v);
  }
  return allInt ? Math.trunc(best) : best;
}

/** `min`/`max`: the engine's collection form for a list, Sprig's numeric form (`max 1 2 3`) otherwise. */
export function collectionFunctions(numeric: { min: Fn; max: Fn }): Record<string, Fn> {
  return {
    sum: (slice, ...keys) => {
      const list = items(slice);
      if (!list) return 0;
      let total = 0;
      let allInt = true;
      for (const item of list) {
        const v = field(item, keys);
        if (!isInt(v)) allInt = false;
        total += toFloat(v);
      }
      return allInt ? Math.trunc(total) : total;
    },
    pluck: (slice, key) => (items(slice) ?? []).filter(isMap).map((m) => m[formatValue(key)] ?? null),
    flatten: (slice) => (items(slice) ?? []).flatMap((item) => (Array.isArray(item) ? item : [item])),
    unique: (slice, ...keys) => {
      const seen = new Set<string>();
      return (items(slice) ?? []).filter((item) => {
        const k = formatValue(field(item, keys));
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    },
    groupBy: (slice, key) => {
      const groups: Record<string, unknown[]> = {};
      for (const item of items(slice) ?? []) {
        if (!isMap(item)) continue;
        const k = formatValue(item[formatValue(key)] ?? '<nil>');
        (groups[k] ??= []).push(item);
      }
      return groups;
    },
    sortBy: (slice, key) => [...(items(slice) ?? [])].sort((a, b) => toFloat(field(a, [key])) - toFloat(field(b, [key]))),
    min: (first, ...rest) => (Array.isArray(first) ? extreme(first, rest, (a, b) => a < b) : numeric.min(first, ...rest)),
    max: (first, ...rest) => (Array.isArray(first) ? extreme(first, rest, (a, b) => a > b) : numeric.max(first, ...rest)),
  };
}
