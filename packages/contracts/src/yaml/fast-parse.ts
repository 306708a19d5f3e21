/**
 * The fast first parse of a YAML file: js-yaml's event parser builds the values and keeps source
 * offsets, so positions cost nothing until a diagnostic needs one (event-positions.ts). It declines
 * (returns undefined) whatever the `yaml` package must explain or reads differently, and the caller then
 * parses the exact way.
 */
import { type Document, LineCounter, parseAllDocuments } from 'yaml';
import type { Limits } from '../limits.js';
import { eventPositions } from './event-positions.js';
import { EVENT_ID, type Event, FAST_SCHEMA, constructFromEvents, parseEvents } from './js-yaml.js';
import type { ParsedYamlFile } from './parse-yaml-file.js';
import { type Positions, documentPositions, textLines } from './positions.js';

const EXPONENT_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const NULL_WORDS = new Set(['', '~', 'null', 'Null', 'NULL']);
const NUMBER_START = /[-+.0-9]/;

/**
 * Where the two parsers read the same text differently, the input goes the exact way so that values
 * (and so digests) stay the same: a null key (`~:`, `null:`, `? `, an empty key), which the `yaml`
 * package reads as "" and js-yaml as "null"; a tagged key; and a number too large for a double
 * (`1e400`), which one reads as Infinity and the other as text. One pass over the events.
 */
function readDifferently(text: string, events: readonly Event[]): boolean {
  const frames: { map: boolean; key: boolean }[] = [];
  for (const e of events) {
    const top = frames[frames.length - 1];
    if (e.type === EVENT_ID.POP) {
      frames.pop();
      continue;
    }
    if (e.type === EVENT_ID.DOCUMENT) {
      frames.push({ map: false, key: false });
      continue;
    }
    const isKey = top?.map === true && top.key;
    if (top?.map) top.key = !top.key;
    if (e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE) {
      frames.push({ map: e.type === EVENT_ID.MAPPING, key: true });
      continue;
    }
    if (e.type !== EVENT_ID.SCALAR) continue;
    const plain = e.style === 1 && e.tagStart < 0;
    const length = e.valueStart < 0 ? 0 : e.valueEnd - e.valueStart;
    if (isKey && (e.tagStart >= 0 || (plain && length <= 4 && NULL_WORDS.has(length === 0 ? '' : text.slice(e.valueStart, e.valueEnd))))) return true;
    if (plain && length > 3 && NUMBER_START.test(text.charAt(e.valueStart))) {
      const source = text.slice(e.valueStart, e.valueEnd);
      if (EXPONENT_FLOAT.test(source) && !Number.isFinite(Number(source))) return true;
    }
  }
  return false;
}

/** The fast parse, or undefined when the input needs the exact parser (which then reports why). */
export function fastParse(path: string, text: string, limits: Limits): ParsedYamlFile | undefined {
  const stackTraceLimit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 0;
    const events = parseEvents(text, { maxDepth: limits.maxDepth });
    if (readDifferently(text, events)) return undefined;
    // No aliases: js-yaml shares aliased values instead of copying them, and the exact parser counts expansions.
    const values = constructFromEvents(events, { source: text, schema: FAST_SCHEMA, json: false, maxAliases: 0 });
    let exact: Document.Parsed[] | undefined;
    let exactLines: LineCounter | undefined;
    const exactPositions = (index: number): Positions => {
      if (!exact) {
        exactLines = new LineCounter();
        exact = parseAllDocuments(text, { lineCounter: exactLines, merge: true, uniqueKeys: false, prettyErrors: false, logLevel: 'error' }) as Document.Parsed[];
      }
      return documentPositions(exact[index] ?? (exact[0] as Document.Parsed), exactLines as LineCounter);
    };
    const lines = textLines(text);
    return {
      path,
      lines,
      diagnostics: [],
      documents: values.map((value, index) => ({ value, ok: true, positions: eventPositions(text, events, index, () => exactPositions(index)) })),
    };
  } catch {
    return undefined;
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

