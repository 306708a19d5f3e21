/** Tokens inside one `{{ … }}` action of a Go template. */
export type Token =
  | { kind: 'field'; path: string[] } // .a.b  or "." (empty path)
  | { kind: 'variable'; name: string; path: string[] } // $x.a
  | { kind: 'ident'; name: string } // function name or keyword; may hold dots/dashes (old step-output form)
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'nil' }
  | { kind: 'lparen' }
  | { kind: 'rparen' }
  | { kind: 'pipe' }
  | { kind: 'declare' } // :=
  | { kind: 'assign' } // =
  | { kind: 'comma' }
  | { kind: 'chain'; path: string[] }; // .a.b directly after ')'

export class TemplateSyntaxError extends Error {
  override readonly name = 'TemplateSyntaxError';
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
// Field names: Go allows letters, digits and underscore; we also accept '-' so that
// `.steps.parse-body.body` works the way authors expect.
const FIELD_PART = /[A-Za-z0-9_-]/;

function readPath(src: string, start: number): { path: string[]; end: number } {
  const path: string[] = [];
  let i = start;
  while (src[i] === '.') {
    let j = i + 1;
    while (j < src.length && FIELD_PART.test(src[j])) j++;
    if (j === i + 1) {
      if (path.length === 0 && i === start) return { path, end: j };
      throw new TemplateSyntaxError(`bad field name at "${src.slice(i, i + 10)}"`);
    }
    path.push(src.slice(i + 1, j));
    i = j;
  }
  return { path, end: i };
}

function readQuoted(src: string, start: number): { value: string; end: number } {
  const quote = src[start];
  let i = start + 1;
  if (quote === '`') {
    const close = src.indexOf('`', i);
    if (close < 0) throw new TemplateSyntaxError('unterminated raw string');
    return { value: src.slice(i, close), end: close + 1 };
  }
  let out = '';
  while (i < src.length && src[i] !== quote) {
    if (src[i] === '\\') {
      const c = src[i + 1];
      const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", '0': '\0' };
      if (c === 'u' || c === 'x') {
        const len = c === 'u' ? 4 : 2;
        out += String.fromCharCode(Number.parseInt(src.slice(i + 2, i + 2 + len), 16));
        i += 2 + len;
        continue;
      }
      out += map[c] ?? c;
      i += 2;
      continue;
    }
    out += src[i];
    i++;
  }
  if (src[i] !== quote) throw new TemplateSyntaxError('unterminated quoted string');
  return { value: out, end: i + 1 };
}

/** Splits the inside of one action into tokens. */
export function lexAction(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '(') {
      tokens.push({ kind: 'lparen' });
      i++;
      continue;
    }
    if (c === ')') {
      tokens.push({ kind: 'rparen' });
      i++;
      if (src[i] === '.' && i + 1 < src.length && FIELD_PART.test(src[i + 1])) {
        const { path, end } = readPath(src, i);
        tokens.push({ kind: 'chain', path });
        i = end;
      }
      continue;
    }
    if (c === '|') {
      tokens.push({ kind: 'pipe' });
      i++;
      continue;
    }
    if (c === ',') {
      tokens.push({ kind: 'comma' });
      i++;
      continue;
    }
    if (c === ':' && src[i + 1] === '=') {
      tokens.push({ kind: 'declare' });
      i += 2;
      continue;
    }
    if (c === '=') {
      tokens.push({ kind: 'assign' });
      i++;
      continue;
    }
    if (c === '"' || c === '`') {
      const { value, end } = readQuoted(src, i);
      tokens.push({ kind: 'string', value });
      i = end;
      continue;
    }
    if (c === "'") {
      const { value, end } = readQuoted(src, i);
      tokens.push({ kind: 'number', value: value.codePointAt(0) ?? 0 });
      i = end;
      continue;
    }
    if (c === '.') {
      if (i + 1 < src.length && /[0-9]/.test(src[i + 1])) {
        const m = /^\.[0-9]+(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i));
        tokens.push({ kind: 'number', value: Number(m?.[0]) });
        i += m?.[0].length ?? 1;
        continue;
      }
      const { path, end } = readPath(src, i);
      tokens.push({ kind: 'field', path });
      i = end === i ? i + 1 : end;
      continue;
    }
    if (c === '$') {
      let j = i + 1;
      while (j < src.length && IDENT_PART.test(src[j])) j++;
      const name = src.slice(i, j);
      const { path, end } = readPath(src, j);
      tokens.push({ kind: 'variable', name, path });
      i = end;
      continue;
    }
    if (/[0-9+-]/.test(c)) {
      const m = /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][+-]?[0-9]+)?)/.exec(
        src.slice(i),
      );
      const text = m?.[0] ?? '';
      if (!text || text === '+' || text === '-') throw new TemplateSyntaxError(`unexpected "${c}" in action`);
      const clean = text.replaceAll('_', '');
      const value = /^[+-]?0[xXoObB]/.test(clean)
        ? (clean.startsWith('-') ? -1 : 1) * Number(clean.replace(/^[+-]/, ''))
        : Number(clean);
      if (Number.isNaN(value)) throw new TemplateSyntaxError(`bad number syntax: "${text}"`);
      tokens.push({ kind: 'number', value });
      i += text.length;
      continue;
    }
    if (IDENT_START.test(c)) {
      let j = i + 1;
      // identifiers may carry dashes and dots for the old `{{step-name.field}}` form
      while (j < src.length && (IDENT_PART.test(src[j]) || src[j] === '-' || (src[j] === '.' && IDENT_PART.test(src[j + 1] ?? ''))))
        j++;
      const name = src.slice(i, j);
      if (name === 'true' || name === 'false') tokens.push({ kind: 'bool', value: name === 'true' });
      else if (name === 'nil') tokens.push({ kind: 'nil' });
      else tokens.push({ kind: 'ident', name });
      i = j;
      continue;
    }
    throw new TemplateSyntaxError(`unexpected "${c}" in action`);
  }
  return tokens;
}
