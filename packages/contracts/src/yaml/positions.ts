/**
 * Where things are in a YAML document, by path of keys and indices: what a diagnostic needs to be placed
 * at file:line:column. Two sources: the `yaml` package's Document (exact, slower to parse) and the
 * js-yaml event stream that the fast parse already produced (see event-positions.ts).
 */
import type { Document, LineCounter } from 'yaml';
import type { Range } from './diagnostic-at.js';
import { type PathSegment, entryRange, headRange, locate, valueRange } from './locate.js';

export interface LinePositions {
  /** 1-based line and column of a character offset. */
  linePos(offset: number): { line: number; col: number };
}

export interface Positions extends LinePositions {
  /** The key of the entry at path when it exists, else the head of the deepest ancestor found. */
  entryRange(path: readonly PathSegment[]): Range | undefined;
  /** The value at path (a scalar, or the key of a collection), else the head of the deepest ancestor. */
  valueRange(path: readonly PathSegment[]): Range | undefined;
  /** The first line of the node at path (a mapping is placed at its first key). */
  headRange(path: readonly PathSegment[]): Range | undefined;
}

export function documentPositions(doc: Document, lineCounter: LineCounter): Positions {
  return {
    linePos: (offset) => lineCounter.linePos(offset),
    entryRange: (path) => entryRange(doc, path),
    valueRange: (path) => valueRange(doc, path),
    headRange: (path) => headRange(path.length === 0 ? (doc.contents ?? undefined) : locate(doc, path).node),
  };
}

/** Line starts of a text, found once, for 1-based line and column lookups by binary search. */
export function textLines(text: string): LinePositions {
  let starts: number[] | undefined;
  return {
    linePos(offset) {
      if (!starts) {
        starts = [0];
        for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
      }
      let low = 0;
      let high = starts.length - 1;
      while (low < high) {
        const mid = (low + high + 1) >> 1;
        if ((starts[mid] as number) <= offset) low = mid;
        else high = mid - 1;
      }
      return { line: low + 1, col: offset - (starts[low] as number) + 1 };
    },
  };
}
