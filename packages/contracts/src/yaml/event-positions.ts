/**
 * Positions read from js-yaml's event stream (which the fast parse produces anyway). A path is followed
 * from the document's root; each container visited on the way indexes its children once, so placing
 * diagnostics costs time only along their paths. Ranges match the `yaml` package's: quoted scalars include their quotes, block scalars start
 * at their `|` or `>`. Paths through a merge key (`<<`) are answered by a fallback (the exact parser).
 */
import { type Event, type ScalarEvent, getScalarValue } from './js-yaml.js';
import type { Range } from './diagnostic-at.js';
import type { PathSegment } from './locate.js';
import { type Positions, textLines } from './positions.js';

/** js-yaml's EVENT_ID values. */
const DOCUMENT = 1;
const SEQUENCE = 2;
const MAPPING = 3;
const SCALAR = 4;
const POP = 6;

function scalarRange(text: string, e: ScalarEvent): Range {
  if (e.style === 2 || e.style === 3) return [e.valueStart - 1, e.valueEnd + 1];
  if (e.style === 4 || e.style === 5) {
    const indicator = Math.max(text.lastIndexOf('|', e.valueStart), text.lastIndexOf('>', e.valueStart));
    return [indicator >= 0 ? indicator : e.valueStart, e.valueEnd];
  }
  return [e.valueStart, e.valueEnd];
}

/** How a container's children are found: items by index, entries by key (key and value event). */
interface Children {
  items?: number[];
  entries?: Map<string, [number, number]>;
  merge: boolean;
}

/** `end[i]` is the index of the POP that closes the collection opened at event i (else i). */
function subtreeEnds(events: readonly Event[]): Int32Array {
  const end = new Int32Array(events.length);
  const open: number[] = [];
  for (let i = 0; i < events.length; i++) {
    const type = (events[i] as Event).type;
    end[i] = i;
    if (type === MAPPING || type === SEQUENCE || type === DOCUMENT) open.push(i);
    else if (type === POP) {
      const from = open.pop();
      if (from !== undefined) end[from] = i;
    }
  }
  return end;
}

export function eventPositions(text: string, events: readonly Event[], documentIndex: number, exact: () => Positions): Positions {
  const lines = textLines(text);
  let ends: Int32Array | undefined;
  let root: number | undefined;
  const children = new Map<number, Children>();
  const next = (i: number): number => (ends as Int32Array)[i] as number + 1;
  const setup = () => {
    if (ends) return;
    ends = subtreeEnds(events);
    let documents = -1;
    for (let i = 0; i < events.length; i = next(i)) {
      if ((events[i] as Event).type !== DOCUMENT) continue;
      documents++;
      if (documents === documentIndex) {
        root = i + 1 < events.length && (events[i + 1] as Event).type !== POP ? i + 1 : undefined;
        break;
      }
    }
  };
  const childrenOf = (i: number): Children => {
    let found = children.get(i);
    if (found) return found;
    const event = events[i] as Event;
    found = { merge: false };
    if (event.type === SEQUENCE) {
      found.items = [];
      for (let c = i + 1; c < events.length && (events[c] as Event).type !== POP; c = next(c)) found.items.push(c);
    } else if (event.type === MAPPING) {
      found.entries = new Map();
      for (let k = i + 1; k < events.length && (events[k] as Event).type !== POP; ) {
        const v = next(k);
        const key = events[k] as Event;
        if (key.type === SCALAR) {
          const name = key.style === 1 && key.fast ? text.slice(key.valueStart, key.valueEnd) : getScalarValue(text, key);
          if (name === '<<') found.merge = true;
          if (!found.entries.has(name)) found.entries.set(name, [k, v]);
        }
        k = next(v);
      }
    }
    children.set(i, found);
    return found;
  };
  const rangeOf = (i: number): Range => {
    const event = events[i] as Event;
    if (event.type === SCALAR) return scalarRange(text, event);
    if (event.type === MAPPING || event.type === SEQUENCE) return [event.start, event.start + 1];
    return [0, 0];
  };
  const head = (i: number): Range => {
    const event = events[i] as Event;
    if (event.type === MAPPING) {
      const first = childrenOf(i).entries?.values().next().value;
      return first ? rangeOf(first[0]) : rangeOf(i);
    }
    if (event.type === SEQUENCE) {
      const first = childrenOf(i).items?.[0];
      if (first === undefined) return rangeOf(i);
      const type = (events[first] as Event).type;
      return type === MAPPING || type === SEQUENCE ? head(first) : rangeOf(first);
    }
    return rangeOf(i);
  };
  /** The node at path, or the deepest ancestor; `merged` when a missing step could be behind a merge key. */
  const find = (path: readonly PathSegment[]): { node?: number; key?: number; exact: boolean; merged: boolean } => {
    setup();
    let node = root;
    let key: number | undefined;
    if (node === undefined) return { exact: false, merged: false };
    for (const segment of path) {
      const kids = childrenOf(node);
      let child: number | undefined;
      if (kids.items) {
        child = kids.items[Number(segment)];
        key = undefined;
      } else if (kids.entries) {
        const entry = kids.entries.get(String(segment));
        child = entry?.[1];
        key = entry?.[0];
      }
      if (child === undefined) return { node, exact: false, merged: kids.merge };
      node = child;
    }
    return { node, key, exact: true, merged: false };
  };
  const isScalar = (i: number) => (events[i] as Event).type === SCALAR;
  /** Empty values have no offsets in the event stream; the exact parser places them (after the key). */
  const placed = (range: Range | undefined, otherwise: () => Range | undefined): Range | undefined =>
    range && range[0] < 0 ? otherwise() : range;
  return {
    linePos: (offset) => lines.linePos(offset),
    entryRange(path) {
      const found = find(path);
      if (found.merged) return exact().entryRange(path);
      if (found.node === undefined) return undefined;
      const range = found.exact && found.key !== undefined ? rangeOf(found.key) : head(found.node);
      return placed(range, () => exact().entryRange(path));
    },
    valueRange(path) {
      const found = find(path);
      if (found.merged) return exact().valueRange(path);
      if (found.node === undefined) return undefined;
      let range: Range;
      if (!found.exact) range = head(found.node);
      else if (isScalar(found.node)) range = rangeOf(found.node);
      else range = found.key !== undefined ? rangeOf(found.key) : head(found.node);
      return placed(range, () => exact().valueRange(path));
    },
    headRange(path) {
      const found = find(path);
      if (found.merged) return exact().headRange(path);
      return found.node === undefined ? undefined : placed(head(found.node), () => exact().headRange(path));
    },
  };
}
