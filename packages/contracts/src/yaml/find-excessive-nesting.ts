/**
 * A linear pre-scan of YAML text that estimates nesting depth without building a tree.
 * The yaml parser recurses (and can run out of memory) on inputs such as 100,000 nested `- `
 * or `[`, so text nested deeper than the limit is refused before it is parsed.
 * The estimate follows block indentation (including compact `- - x` sequences) and flow brackets,
 * skipping comments, quoted scalars and block scalars, so real configs are never over-counted by much.
 */
const SPACE = 32;
const NEWLINE = 10;

const isTokenStart = (text: string, i: number, contentStart: number): boolean => {
  if (i === contentStart) return true;
  const prev = text.charCodeAt(i - 1);
  return prev === SPACE || prev === 9 || prev === 91 /* [ */ || prev === 123 /* { */ || prev === 44 /* , */;
};

const endOfLine = (text: string, i: number): number => {
  const j = text.indexOf('\n', i);
  return j === -1 ? text.length : j;
};

/** Returns the offset at which nesting first exceeds maxDepth, or undefined when it never does. */
export function findExcessiveNesting(text: string, maxDepth: number): number | undefined {
  const levels: number[] = [];
  let flow = 0;
  let blockScalarParent = -1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    let indent = 0;
    while (i < n && text.charCodeAt(i) === SPACE) {
      i++;
      indent++;
    }
    if (i >= n) break;
    const first = text.charCodeAt(i);
    if (first === NEWLINE || (first === 13 && text.charCodeAt(i + 1) === NEWLINE)) {
      i = endOfLine(text, i) + 1;
      continue;
    }
    if (blockScalarParent >= 0) {
      if (indent > blockScalarParent) {
        i = endOfLine(text, i) + 1;
        continue;
      }
      blockScalarParent = -1;
    }
    const lineIndent = indent;
    let contentStart = i;
    if (flow === 0) {
      if (first === 35 /* # */) {
        i = endOfLine(text, i) + 1;
        continue;
      }
      while (levels.length > 0 && (levels[levels.length - 1] ?? 0) > indent) levels.pop();
      if (levels.length === 0 || (levels[levels.length - 1] ?? 0) < indent) levels.push(indent);
      // compact nested sequences or complex keys: "- - - x", each opens a level at its content column
      while ((text[i] === '-' || text[i] === '?') && (text.charCodeAt(i + 1) === SPACE || text.charCodeAt(i + 1) === NEWLINE)) {
        i++;
        while (i < n && text.charCodeAt(i) === SPACE) i++;
        const column = i - (text.lastIndexOf('\n', i - 1) + 1);
        levels.push(column);
        if (levels.length > maxDepth) return i;
        contentStart = i;
      }
      if (levels.length > maxDepth) return i;
    }
    // scan the rest of the line
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === NEWLINE) {
        i++;
        break;
      }
      if (c === 35 /* # */ && (i === contentStart || text.charCodeAt(i - 1) === SPACE || text.charCodeAt(i - 1) === 9)) {
        i = endOfLine(text, i);
        continue;
      }
      if ((c === 34 /* " */ || c === 39) /* ' */ && isTokenStart(text, i, contentStart)) {
        i = skipQuoted(text, i, c);
        continue;
      }
      if (c === 91 /* [ */ || c === 123 /* { */) {
        if (flow > 0 || isTokenStart(text, i, contentStart)) {
          flow++;
          if (flow + levels.length > maxDepth) return i;
        }
      } else if (c === 93 /* ] */ || c === 125 /* } */) {
        if (flow > 0) flow--;
      } else if ((c === 124 /* | */ || c === 62) /* > */ && flow === 0 && isTokenStart(text, i, contentStart)) {
        blockScalarParent = lineIndent;
        i = endOfLine(text, i) + 1;
        break;
      }
      i++;
    }
  }
  return undefined;
}

function skipQuoted(text: string, start: number, quote: number): number {
  let i = start + 1;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (quote === 34 && c === 92 /* \ */) {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (quote === 39 && text.charCodeAt(i + 1) === 39) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return n;
}
