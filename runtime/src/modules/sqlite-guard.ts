import type { Database } from 'node-sqlite3-wasm';

/**
 * SQL that reaches a file other than the environment's own database is refused before it runs. SQLite itself
 * compiles the statement (EXPLAIN compiles without executing), so quoting, comments and case cannot hide it:
 *  - ATTACH DATABASE compiles to a call of the internal `sqlite_attach` function;
 *  - VACUUM INTO compiles to a Vacuum opcode whose second operand holds the target file name.
 * `load_extension`, `readfile`/`writefile` and the deprecated `temp_store_directory` pragma are not compiled into
 * this SQLite build (SQLITE_OMIT_LOAD_EXTENSION, OMIT_DEPRECATED; TEMP_STORE=3 keeps temp data in memory).
 */
export class ForbiddenSqlError extends Error {
  override readonly name = 'ForbiddenSqlError';
}

type Op = { opcode: string; p2: number; p4: unknown };

export function assertSqlAllowed(db: Database, sql: string): void {
  const ops = db.all(`EXPLAIN ${sql}`) as unknown as Op[];
  for (const op of ops) {
    if ((op.opcode === 'Function' || op.opcode === 'PureFunc') && typeof op.p4 === 'string' && op.p4.startsWith('sqlite_attach('))
      throw new ForbiddenSqlError('ATTACH DATABASE is not allowed: a runtime reaches only its own database file');
    if (op.opcode === 'Vacuum' && op.p2 !== 0) throw new ForbiddenSqlError('VACUUM INTO is not allowed: a runtime writes only its own database file');
  }
}

const INCOMPLETE = /incomplete input/;

/** Strips comments and whitespace; what is left of a statement list that is only comments is empty. */
function isBlank(sql: string): boolean {
  return sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, '').trim() === '' || sql.trim() === ';';
}

/** Splits at `;` outside quotes and comments (trigger bodies are rejoined by asking SQLite whether a piece is complete). */
export function splitAtSemicolons(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c;
      let j = i + 1;
      while (j < sql.length && sql[j] !== close) j++;
      i = j + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === ';') {
      out.push(sql.slice(start, i + 1));
      start = i + 1;
      i++;
    } else i++;
  }
  if (start < sql.length) out.push(sql.slice(start));
  return out;
}

/**
 * Runs a list of statements one by one, each checked by assertSqlAllowed first; returns the changes of the last.
 * (sqlite3_exec would run the whole list unchecked.)
 */
export function runStatementList(db: Database, sql: string): { changes: number; lastInsertRowid: number | bigint } {
  let result = { changes: 0, lastInsertRowid: 0 as number | bigint };
  let pending = '';
  for (const piece of splitAtSemicolons(sql)) {
    pending += piece;
    if (isBlank(pending)) {
      pending = '';
      continue;
    }
    try {
      assertSqlAllowed(db, pending);
    } catch (err) {
      if (err instanceof ForbiddenSqlError) throw err;
      if (INCOMPLETE.test((err as Error).message)) continue;
      throw err;
    }
    result = db.run(pending);
    pending = '';
  }
  if (!isBlank(pending)) throw new Error('incomplete input');
  return result;
}
