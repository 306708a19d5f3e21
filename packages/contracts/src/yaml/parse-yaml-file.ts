/**
 * Parses one YAML file into documents with positions, enforcing the limits before and after parsing.
 * Fast path first: js-yaml's event parser builds the values and keeps source offsets, so positions cost
 * nothing until a diagnostic needs one. Anything it does not take (syntax errors, duplicate keys,
 * aliases, custom tags, too deep) goes the exact way, through the `yaml` package, which explains it.
 * Never throws: every problem becomes a diagnostic.
 */
import { type Document, LineCounter, type Node, isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments } from 'yaml';
import { fastParse } from './fast-parse.js';
import { type LinePositions, type Positions, documentPositions, textLines } from './positions.js';
import { CODES } from '../codes.js';
import type { Diagnostic } from '../diagnostic.js';
import { LIMITS, type Limits } from '../limits.js';
import { diagnosticAt } from './diagnostic-at.js';
import { findExcessiveNesting } from './find-excessive-nesting.js';

export interface YamlDocument {
  /** Where the document's nodes are, by path. */
  positions: Positions;
  /** The plain value (aliases and merge keys resolved); undefined when the document could not be read. */
  value: unknown;
  /** True when the document parsed without errors and within the limits. */
  ok: boolean;
}

export interface ParsedYamlFile {
  path: string;
  lines: LinePositions;
  documents: YamlDocument[];
  diagnostics: Diagnostic[];
}

/** `fast` (default) tries js-yaml first; `exact` always uses the `yaml` package (tests compare the two). */
export type YamlParser = 'fast' | 'exact';

export const utf8Length = (text: string): number => Buffer.byteLength(text, 'utf8');

/** YAML errors and duplicate keys listed per document; more are summed up in one WHARF109. */
const MAX_REPORTED = 200;

export function parseYamlFile(path: string, text: string, limits: Limits = LIMITS, options: { parser?: YamlParser } = {}): ParsedYamlFile {
  const lineCounter = new LineCounter();
  const result: ParsedYamlFile = { path, lines: lineCounter, documents: [], diagnostics: [] };
  const bytes = text.length > limits.maxFileBytes ? text.length : utf8Length(text);
  if (bytes > limits.maxFileBytes) {
    result.diagnostics.push(
      diagnosticAt(
        path,
        undefined,
        undefined,
        CODES.FileTooLarge,
        `File is ${bytes} bytes, over the limit of ${limits.maxFileBytes}: split it into several files listed in wharf.yaml.`,
      ),
    );
    return result;
  }
  // js-yaml refuses input nested deeper than the limit before recursing, so the pre-scan that protects
  // the `yaml` package's recursive parser is only needed when the fast parse did not take the input.
  const fast = options.parser === 'exact' ? undefined : fastParse(path, text, limits);
  if (fast) return fast;
  const deepAt = findExcessiveNesting(text, limits.maxDepth);
  if (deepAt !== undefined) {
    result.diagnostics.push(
      diagnosticAt(path, textLines(text), [deepAt, deepAt + 1], CODES.TooDeep, tooDeepMessage(limits.maxDepth)),
    );
    return result;
  }
  let docs: Document.Parsed[];
  // The parser reports syntax errors as Error objects; their stack traces are never shown and cost more
  // than the parse itself on broken input.
  const stackTraceLimit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 0;
    docs = parseAllDocuments(text, { lineCounter, merge: true, uniqueKeys: false, prettyErrors: false, logLevel: 'error' }) as Document.Parsed[];
  } catch (err) {
    result.diagnostics.push(
      diagnosticAt(path, undefined, undefined, CODES.YamlSyntax, `YAML could not be parsed: ${String(err)}`),
    );
    return result;
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  for (const doc of Array.isArray(docs) ? docs : []) {
    result.documents.push(readDocument(path, text, doc, lineCounter, limits, result.diagnostics));
  }
  return result;
}

const tooDeepMessage = (max: number) =>
  `Nesting is deeper than ${max} levels: flatten the structure (Workflow configs never need this depth).`;

/** Where an unclosed quoted scalar starts: the last unescaped quote before the error. */
function openingQuote(text: string, end: number, quote: string): number | undefined {
  const stop = Math.max(0, end - 100_000);
  for (let i = Math.min(end, text.length) - 1; i >= stop; i--) {
    if (text[i] === quote && text[i - 1] !== '\\') return i;
  }
  return undefined;
}

function readDocument(
  path: string,
  text: string,
  doc: Document.Parsed,
  lineCounter: LineCounter,
  limits: Limits,
  diagnostics: Diagnostic[],
): YamlDocument {
  for (const error of doc.errors.slice(0, MAX_REPORTED)) {
    const duplicate = error.code === 'DUPLICATE_KEY';
    let pos: readonly [number, number] = error.pos;
    const quote = /Missing closing ("|')quote/.exec(error.message)?.[1];
    if (quote) {
      const start = openingQuote(text, error.pos[0], quote);
      if (start !== undefined) pos = [start, start + 1];
    }
    diagnostics.push(
      diagnosticAt(
        path,
        lineCounter,
        pos,
        duplicate ? CODES.DuplicateKey : CODES.YamlSyntax,
        duplicate
          ? 'This key appears twice in the same mapping: remove or rename one (the engine refuses duplicate keys).'
          : `YAML syntax error: ${sentence(firstLine(error.message))} Check the indentation and quoting here.`,
      ),
    );
  }
  for (const warning of doc.warnings.slice(0, MAX_REPORTED)) {
    diagnostics.push(
      diagnosticAt(path, lineCounter, warning.pos, CODES.YamlSyntax, `YAML warning: ${sentence(firstLine(warning.message))}`, 'warning'),
    );
  }
  const duplicates = findDuplicateKeys(doc.contents);
  for (const key of duplicates.slice(0, MAX_REPORTED)) {
    diagnostics.push(
      diagnosticAt(
        path,
        lineCounter,
        key.range ?? undefined,
        CODES.DuplicateKey,
        `The key "${keyString(key)}" appears twice in the same mapping: remove or rename one (the engine refuses duplicate keys).`,
      ),
    );
  }
  const unreported = Math.max(0, doc.errors.length - MAX_REPORTED) + Math.max(0, duplicates.length - MAX_REPORTED);
  if (unreported > 0) {
    diagnostics.push(
      diagnosticAt(
        path,
        lineCounter,
        doc.contents?.range ?? undefined,
        CODES.MoreProblems,
        `${unreported} more YAML problems in this document are not shown: fix the ones above and validate again.`,
      ),
    );
  }
  const positions = documentPositions(doc, lineCounter);
  if (doc.errors.length > 0 || duplicates.length > 0) return { positions, value: undefined, ok: false };
  const deep = findDeepNode(doc.contents, limits.maxDepth);
  if (deep) {
    diagnostics.push(diagnosticAt(path, lineCounter, deep.range ?? undefined, CODES.TooDeep, tooDeepMessage(limits.maxDepth)));
    return { positions, value: undefined, ok: false };
  }
  try {
    return { positions, value: doc.toJS({ maxAliasCount: limits.maxAliasCount }), ok: true };
  } catch (err) {
    const alias = firstAlias(doc.contents);
    const isExpansion = err instanceof ReferenceError && /alias/i.test(err.message);
    diagnostics.push(
      diagnosticAt(
        path,
        lineCounter,
        alias?.range ?? doc.contents?.range ?? undefined,
        isExpansion ? CODES.AliasExpansion : CODES.YamlSyntax,
        isExpansion
          ? `Aliases expand to too much data (over ${limits.maxAliasCount} alias uses): write the values out or use fewer nested aliases.`
          : `YAML could not be read: ${sentence(firstLine(String(err)))}`,
      ),
    );
    return { positions, value: undefined, ok: false };
  }
}

const firstLine = (message: string): string => message.split('\n')[0] ?? message;
const sentence = (message: string): string => (/[.?!]$/.test(message) ? message : `${message}.`);

const keyString = (key: Node): string => (isScalar(key) ? String(key.value) : '?');

/**
 * Keys repeated within one mapping, in one pass with a set per mapping (the parser's own check compares
 * every pair of keys, which takes minutes on a mapping with 60,000 keys). Merge keys may repeat.
 */
function findDuplicateKeys(root: Node | null): Node[] {
  const found: Node[] = [];
  if (!root) return found;
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key as Node | null;
        if (isScalar(key) && typeof key.value !== 'symbol') {
          const text = `${typeof key.value}:${String(key.value)}`;
          if (seen.has(text)) found.push(key);
          else seen.add(text);
        } else if (key && !isScalar(key)) stack.push(key);
        if (pair.value && !isScalar(pair.value)) stack.push(pair.value as Node);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) if (item && !isScalar(item)) stack.push(item as Node);
    }
  }
  return found;
}

/** Iterative walk: the first node deeper than max, or undefined. Aliases are not followed. */
function findDeepNode(root: Node | null, max: number): Node | undefined {
  if (!root) return undefined;
  const stack: [Node, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [Node, number];
    if (depth > max) return node;
    if (isMap(node)) {
      for (const pair of node.items) {
        if (isPair(pair) && pair.value && !isScalar(pair.value)) stack.push([pair.value as Node, depth + 1]);
        if (isPair(pair) && pair.key && !isScalar(pair.key)) stack.push([pair.key as Node, depth + 1]);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) if (item && !isScalar(item)) stack.push([item as Node, depth + 1]);
    }
  }
  return undefined;
}

function firstAlias(root: Node | null): Node | undefined {
  if (!root) return undefined;
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (isAlias(node)) return node;
    if (isMap(node)) {
      for (const pair of [...node.items].reverse()) if (isPair(pair) && pair.value) stack.push(pair.value as Node);
    } else if (isSeq(node)) {
      for (const item of [...node.items].reverse()) if (item) stack.push(item as Node);
    }
  }
  return undefined;
}
