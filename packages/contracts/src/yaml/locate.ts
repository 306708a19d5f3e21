/**
 * Finds the YAML node for a path of keys and indices, following aliases and merge keys,
 * so a problem found in the plain value can be reported at its line and column.
 */
import { type Document, type Node, type Pair, isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Range } from './diagnostic-at.js';

export type PathSegment = string | number;

export interface Located {
  /** The value node at the path, or the deepest ancestor found. */
  node: Node | undefined;
  /** The key node of the last segment when it names a mapping entry that exists. */
  key: Node | undefined;
  /** True when every segment was found. */
  exact: boolean;
}

/** A mapping key as text; merge keys (`<<`, a symbol once parsed) read as "<<". */
const keyText = (key: unknown): string | undefined => {
  if (!isScalar(key)) return typeof key === 'string' ? key : undefined;
  return typeof key.value === 'symbol' ? (key.source ?? '<<') : String(key.value);
};

function resolve(doc: Document, node: unknown): Node | undefined {
  let current = node;
  for (let hops = 0; hops < 100 && isAlias(current); hops++) current = current.resolve(doc);
  return (current ?? undefined) as Node | undefined;
}

function findPair(doc: Document, map: Node, segment: string, seen = 0): Pair | undefined {
  if (!isMap(map) || seen > 20) return undefined;
  const direct = map.items.find((p) => isPair(p) && keyText(p.key) === segment && keyText(p.key) !== '<<');
  if (direct) return direct;
  for (const pair of map.items) {
    if (!isPair(pair) || keyText(pair.key) !== '<<') continue;
    const source = resolve(doc, pair.value);
    const sources = isSeq(source) ? source.items.map((i) => resolve(doc, i)) : [source];
    for (const s of sources) {
      const found = s && findPair(doc, s, segment, seen + 1);
      if (found) return found;
    }
  }
  return undefined;
}

export function locate(doc: Document, path: readonly PathSegment[]): Located {
  let node = resolve(doc, doc.contents);
  let key: Node | undefined;
  for (const segment of path) {
    if (!node) return { node, key: undefined, exact: false };
    if (isMap(node)) {
      const pair = findPair(doc, node, String(segment));
      if (!pair) return { node, key: undefined, exact: false };
      key = (pair.key ?? undefined) as Node | undefined;
      const value = resolve(doc, pair.value);
      if (!value) return { node: key, key, exact: true };
      node = value;
    } else if (isSeq(node)) {
      const item = resolve(doc, node.items[Number(segment)]);
      if (!item) return { node, key: undefined, exact: false };
      key = undefined;
      node = item;
    } else {
      return { node, key: undefined, exact: false };
    }
  }
  return { node, key, exact: true };
}

export const rangeOf = (node: Node | undefined): Range | undefined =>
  node?.range ? [node.range[0], node.range[1]] : undefined;

/** The range of the first line of a node: a whole mapping is reported at its first key, not across 50 lines. */
export function headRange(node: Node | undefined): Range | undefined {
  if (!node?.range) return undefined;
  if (isMap(node) || isSeq(node)) {
    const first = node.items[0];
    const firstNode = isPair(first) ? (first.key as Node | null) : (first as Node | null);
    // A list of mappings is placed at the first key of its first item, still one line.
    if (isSeq(node) && (isMap(firstNode) || isSeq(firstNode))) return headRange(firstNode);
    if (firstNode?.range) return [firstNode.range[0], firstNode.range[1]];
  }
  return [node.range[0], node.range[1]];
}

/** Range for a problem about the entry at path: the key when it exists, else the value. */
export function entryRange(doc: Document, path: readonly PathSegment[]): Range | undefined {
  const found = locate(doc, path);
  if (found.exact && found.key) return rangeOf(found.key);
  return headRange(found.node);
}

/** Range for a problem about the value at path. */
export function valueRange(doc: Document, path: readonly PathSegment[]): Range | undefined {
  const found = locate(doc, path);
  if (!found.exact) return headRange(found.node);
  if (isScalar(found.node) || isAlias(found.node)) return rangeOf(found.node);
  return rangeOf(found.key) ?? headRange(found.node);
}
