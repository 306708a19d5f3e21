import { setFlagsFromString } from 'node:v8';

let linearEngine = false;

/**
 * Compiles a `pattern` from a config with V8's linear-time RegExp engine (the `l` flag), so that no pattern and no
 * request can make matching backtrack for ever ("ReDoS"). The engine's patterns are Go RE2 patterns, which are
 * linear too and have no backreferences or lookaround; a pattern that needs them is refused, as the engine refuses
 * it. Patterns with Unicode escapes (`\p{…}`, `\u{…}`), which the linear engine cannot compile, use the usual
 * engine; the stall watchdog bounds those.
 */
export function compilePattern(source: string, where: string): RegExp {
  if (/\\[pPu]\{/.test(source)) return new RegExp(source, 'u');
  if (!linearEngine) {
    setFlagsFromString('--enable-experimental-regexp_engine');
    linearEngine = true;
  }
  try {
    return new RegExp(source, 'l');
  } catch (err) {
    const message = (err as Error).message;
    if (/linear time/.test(message))
      throw new Error(`${where}: pattern ${source} needs backtracking (a backreference or lookaround), which Go's RE2 engine does not support either`);
    throw new Error(`${where}: pattern ${source} is not a valid regular expression: ${message}`);
  }
}
