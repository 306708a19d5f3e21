/**
 * Field sets of server-side apply (structured-merge-diff): the paths an object sets, with the list semantics of
 * its kind, encoded as `fieldsV1` tries in `metadata.managedFields`, and printed the way conflict messages print
 * them (`.spec.template.spec.containers[name="app"].image`).
 */
import type { ListType } from './resource-types.js';
import { isPlainObject, type FieldsV1 } from './objects.js';

export type PathElement = { f: string } | { k: Record<string, unknown> } | { v: unknown } | { i: number };

export interface FieldPath {
  elements: PathElement[];
  /** The leaf value (undefined for list items, which are compared by presence). */
  value?: unknown;
}

/** Path string → path. Keys are the SMD path strings, so set operations are map operations. */
export type FieldSet = Map<string, FieldPath>;

export type ListTypeOf = (fieldNames: readonly string[]) => ListType;

const sortKeys = (k: Record<string, unknown>) => Object.fromEntries(Object.keys(k).sort().map((n) => [n, k[n]]));

export function elementString(e: PathElement): string {
  if ('f' in e) return `.${e.f}`;
  if ('k' in e) return `[${Object.entries(e.k).map(([n, v]) => `${n}=${JSON.stringify(v)}`).join(',')}]`;
  if ('v' in e) return `[=${JSON.stringify(e.v)}]`;
  return `[${e.i}]`;
}

export const pathString = (elements: readonly PathElement[]): string => elements.map(elementString).join('');

/** Key fields of a map-list item; `protocol` defaults to TCP as Kubernetes defaults it before apply. */
export function itemKey(item: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) out[key] = item[key] === undefined && key === 'protocol' ? 'TCP' : item[key];
  return sortKeys(out);
}

export interface CollectOptions {
  listType: ListTypeOf;
  /** Top-level and metadata fields left out of every set (apiVersion, kind, name, uid, …). */
  skip?: (elements: readonly PathElement[]) => boolean;
}

/** Every member path of `value`: leaves, atomic lists, empty maps, and list items (by key or value). */
export function collect(value: unknown, options: CollectOptions): FieldSet {
  const out: FieldSet = new Map();
  const add = (elements: PathElement[], leaf?: unknown) => {
    if (options.skip?.(elements)) return;
    out.set(pathString(elements), leaf === undefined ? { elements } : { elements, value: leaf });
  };
  const walk = (node: unknown, elements: PathElement[], names: string[]) => {
    if (options.skip?.(elements)) return;
    if (isPlainObject(node)) {
      const keys = Object.keys(node);
      if (keys.length === 0 && elements.length > 0) add(elements, {});
      for (const k of keys) walk(node[k], [...elements, { f: k }], [...names, k]);
      return;
    }
    if (Array.isArray(node)) {
      const lt = options.listType(names);
      if (lt.type === 'atomic' || node.length === 0) return add(elements, node);
      if (lt.type === 'set') {
        for (const item of node) add([...elements, { v: item }], item);
        return;
      }
      for (const item of node) {
        if (!isPlainObject(item)) return add(elements, node);
        const itemPath: PathElement[] = [...elements, { k: itemKey(item, lt.keys) }];
        add(itemPath);
        walk(item, itemPath, names);
      }
      return;
    }
    add(elements, node);
  };
  walk(value, [], []);
  return out;
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

export function compare(before: FieldSet, after: FieldSet): Comparison {
  const added: FieldSet = new Map();
  const modified: FieldSet = new Map();
  const removed: FieldSet = new Map();
  for (const [key, p] of after) {
    const old = before.get(key);
    if (!old) added.set(key, p);
    else if (JSON.stringify(old.value) !== JSON.stringify(p.value)) modified.set(key, p);
  }
  for (const [key, p] of before) if (!after.has(key)) removed.set(key, p);
  return { added, modified, removed };
}

export const union = (...sets: FieldSet[]): FieldSet => {
  const out: FieldSet = new Map();
  for (const s of sets) for (const [k, v] of s) out.set(k, v);
  return out;
};
export const minus = (a: FieldSet, b: FieldSet): FieldSet => new Map([...a].filter(([k]) => !b.has(k)));
export const intersect = (a: FieldSet, b: FieldSet): FieldSet => new Map([...a].filter(([k]) => b.has(k)));

/** True when `set` holds `prefix` itself or anything below it. */
export const isUnder = (key: string, prefix: string): boolean => key === prefix || key.startsWith(prefix + '.') || key.startsWith(prefix + '[');
export const ownsUnder = (set: FieldSet, prefix: string): boolean => [...set.keys()].some((k) => isUnder(k, prefix));

function elementKey(e: PathElement): string {
  if ('f' in e) return `f:${e.f}`;
  if ('k' in e) return `k:${JSON.stringify(e.k)}`;
  if ('v' in e) return `v:${JSON.stringify(e.v)}`;
  return `i:${e.i}`;
}

function parseElementKey(key: string): PathElement {
  const tag = key.slice(0, 2);
  const rest = key.slice(2);
  if (tag === 'f:') return { f: rest };
  if (tag === 'k:') return { k: JSON.parse(rest) as Record<string, unknown> };
  if (tag === 'v:') return { v: JSON.parse(rest) as unknown };
  if (tag === 'i:') return { i: Number(rest) };
  throw new Error(`not a fieldsV1 key: ${key}`);
}

export function toFieldsV1(set: FieldSet): FieldsV1 {
  const root: FieldsV1 = {};
  const members = new Set<FieldsV1>();
  for (const p of set.values()) {
    let node = root;
    for (const e of p.elements) {
      const key = elementKey(e);
      node[key] ??= {};
      node = node[key]!;
    }
    members.add(node);
  }
  // Keys sorted, '.' first, as the API server serializes the trie.
  const finish = (node: FieldsV1): FieldsV1 => {
    const children = Object.keys(node).sort();
    const out: FieldsV1 = {};
    if (members.has(node) && children.length > 0) out['.'] = {};
    for (const c of children) out[c] = finish(node[c]!);
    return out;
  };
  return finish(root);
}

/** Decodes a `fieldsV1` trie; leaf values are taken from `obj` so that the set can be compared. */
export function fromFieldsV1(trie: FieldsV1): FieldSet {
  const out: FieldSet = new Map();
  const walk = (node: FieldsV1, elements: PathElement[]) => {
    const keys = Object.keys(node);
    if ((keys.length === 0 || keys.includes('.')) && elements.length > 0) out.set(pathString(elements), { elements });
    for (const key of keys) if (key !== '.') walk(node[key]!, [...elements, parseElementKey(key)]);
  };
  walk(trie, []);
  return out;
}
