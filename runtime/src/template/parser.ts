import { lexAction, TemplateSyntaxError, type Token } from './lexer.js';

export type Arg =
  | { k: 'field'; path: string[] }
  | { k: 'var'; name: string; path: string[] }
  | { k: 'fn'; name: string }
  | { k: 'lit'; value: unknown }
  | { k: 'sub'; pipe: Pipeline; path: string[] }
  | { k: 'steppath'; path: string[] };

export type Command = Arg[];
export type Pipeline = { decl: { names: string[]; assign: boolean } | null; cmds: Command[] };

export type Node =
  | { t: 'text'; text: string }
  | { t: 'action'; pipe: Pipeline }
  | { t: 'if' | 'with'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { t: 'range'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { t: 'break' }
  | { t: 'continue' };

type Piece = { kind: 'text'; text: string } | { kind: 'action'; src: string };

/** Splits template source into text and action pieces, applying `{{-` / `-}}` trimming and dropping comments. */
function splitPieces(src: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) pieces.push({ kind: 'text', text });
      break;
    }
    let start = open + 2;
    if (src[start] === '-' && /\s/.test(src[start + 1] ?? '')) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text) pieces.push({ kind: 'text', text });
    let close: number;
    const afterWs = src.slice(start).match(/^\s*/)?.[0].length ?? 0;
    if (src.startsWith('/*', start + afterWs)) {
      const endComment = src.indexOf('*/', start + afterWs + 2);
      if (endComment < 0) throw new TemplateSyntaxError('unclosed comment');
      close = src.indexOf('}}', endComment + 2);
      if (close < 0) throw new TemplateSyntaxError('unclosed action');
      if (src[close - 1] === '-' && /\s/.test(src[close - 2] ?? '')) trimNext = true;
      i = close + 2;
      continue;
    }
    close = findClose(src, start);
    let inner = src.slice(start, close);
    if (/\s-$/.test(inner)) {
      inner = inner.slice(0, -1);
      trimNext = true;
    }
    pieces.push({ kind: 'action', src: inner });
    i = close + 2;
  }
  return pieces;
}

function findClose(src: string, start: number): number {
  let i = start;
  while (i < src.length) {
    const c = src[i];
    if (c === '"' || c === "'") {
      i++;
      while (i < src.length && src[i] !== c) i += src[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) break;
      i = end + 1;
      continue;
    }
    if (c === '}' && src[i + 1] === '}') return i;
    i++;
  }
  throw new TemplateSyntaxError('unclosed action');
}

class TokenStream {
  pos = 0;
  constructor(readonly tokens: Token[]) {}
  peek(): Token | undefined {
    return this.tokens[this.pos];
  }
  next(): Token | undefined {
    return this.tokens[this.pos++];
  }
}

function parsePipeline(ts: TokenStream, knownFunctions: ReadonlySet<string>, inParens: boolean): Pipeline {
  let decl: Pipeline['decl'] = null;
  // variable declaration: $x := … or $i, $v := …
  const save = ts.pos;
  const names: string[] = [];
  while (ts.peek()?.kind === 'variable') {
    const v = ts.next() as Extract<Token, { kind: 'variable' }>;
    if (v.path.length) break;
    names.push(v.name);
    const n = ts.peek();
    if (n?.kind === 'comma') {
      ts.next();
      continue;
    }
    if (n?.kind === 'declare' || n?.kind === 'assign') {
      ts.next();
      decl = { names: [...names], assign: n.kind === 'assign' };
    }
    break;
  }
  if (!decl) ts.pos = save;
  const cmds: Command[] = [];
  let cmd: Command = [];
  for (;;) {
    const tok = ts.peek();
    if (!tok || (tok.kind === 'rparen' && inParens)) break;
    ts.next();
    switch (tok.kind) {
      case 'pipe':
        if (!cmd.length) throw new TemplateSyntaxError('missing command before "|"');
        cmds.push(cmd);
        cmd = [];
        break;
      case 'field':
        cmd.push({ k: 'field', path: tok.path });
        break;
      case 'variable':
        cmd.push({ k: 'var', name: tok.name, path: tok.path });
        break;
      case 'string':
      case 'number':
      case 'bool':
        cmd.push({ k: 'lit', value: tok.value });
        break;
      case 'nil':
        cmd.push({ k: 'lit', value: null });
        break;
      case 'ident': {
        if (knownFunctions.has(tok.name)) cmd.push({ k: 'fn', name: tok.name });
        else if (/[.-]/.test(tok.name)) cmd.push({ k: 'steppath', path: tok.name.split('.') });
        else throw new TemplateSyntaxError(`function "${tok.name}" not defined`);
        break;
      }
      case 'lparen': {
        const pipe = parsePipeline(ts, knownFunctions, true);
        if (ts.next()?.kind !== 'rparen') throw new TemplateSyntaxError('unclosed left paren');
        let path: string[] = [];
        if (ts.peek()?.kind === 'chain') path = (ts.next() as Extract<Token, { kind: 'chain' }>).path;
        cmd.push({ k: 'sub', pipe, path });
        break;
      }
      default:
        throw new TemplateSyntaxError(`unexpected token "${tok.kind}" in action`);
    }
  }
  if (cmd.length) cmds.push(cmd);
  else if (cmds.length) throw new TemplateSyntaxError('missing command after "|"');
  if (!cmds.length) throw new TemplateSyntaxError('missing value for command');
  return { decl, cmds };
}

function parseActionPipeline(src: string, knownFunctions: ReadonlySet<string>): Pipeline {
  const ts = new TokenStream(lexAction(src));
  const pipe = parsePipeline(ts, knownFunctions, false);
  if (ts.peek()) throw new TemplateSyntaxError(`unexpected "${ts.peek()?.kind}" in action`);
  return pipe;
}

const KEYWORD = /^\s*(if|else|end|range|with|break|continue|define|template|block)\b\s*([\s\S]*)$/;

/** Parses Go-template source into a node list; throws TemplateSyntaxError. */
export function parseTemplate(src: string, knownFunctions: ReadonlySet<string>): Node[] {
  const pieces = splitPieces(src);
  let pos = 0;

  type Stop = { word: 'end' | 'else'; rest: string };
  function parseList(inBlock: boolean, inRange: boolean): { nodes: Node[]; stop: Stop | null } {
    const nodes: Node[] = [];
    while (pos < pieces.length) {
      const piece = pieces[pos++];
      if (piece.kind === 'text') {
        nodes.push({ t: 'text', text: piece.text });
        continue;
      }
      const m = KEYWORD.exec(piece.src);
      if (!m) {
        nodes.push({ t: 'action', pipe: parseActionPipeline(piece.src, knownFunctions) });
        continue;
      }
      const word = m[1];
      const rest = m[2];
      if (word === 'end' || word === 'else') {
        if (!inBlock) throw new TemplateSyntaxError(`unexpected {{${word}}}`);
        return { nodes, stop: { word, rest } };
      }
      if (word === 'break' || word === 'continue') {
        if (!inRange) throw new TemplateSyntaxError(`{{${word}}} outside {{range}}`);
        nodes.push({ t: word });
        continue;
      }
      if (word === 'define' || word === 'template' || word === 'block')
        throw new TemplateSyntaxError(`{{${word}}} is not supported`);
      nodes.push(parseBlock(word as 'if' | 'with' | 'range', rest, inRange));
    }
    if (inBlock) throw new TemplateSyntaxError('unexpected EOF: missing {{end}}');
    return { nodes, stop: null };
  }

  function parseBlock(word: 'if' | 'with' | 'range', rest: string, inRange: boolean): Node {
    const pipe = parseActionPipeline(rest, knownFunctions);
    const bodyRange = word === 'range' ? true : inRange;
    const body = parseList(true, bodyRange);
    let otherwise: Node[] = [];
    const stop = body.stop as Stop;
    if (stop.word === 'else') {
      const chained = /^\s*(if|with)\b\s*([\s\S]*)$/.exec(stop.rest);
      if (chained && word !== 'range') {
        // {{else if …}} / {{else with …}}: a nested block that shares our {{end}}
        otherwise = [parseBlock(chained[1] as 'if' | 'with', chained[2], inRange)];
      } else {
        if (stop.rest.trim()) throw new TemplateSyntaxError(`unexpected "${stop.rest.trim()}" after else`);
        const alt = parseList(true, inRange);
        if (alt.stop?.word !== 'end') throw new TemplateSyntaxError('expected {{end}}');
        otherwise = alt.nodes;
      }
    }
    return { t: word, pipe, body: body.nodes, otherwise };
  }

  return parseList(false, false).nodes;
}
