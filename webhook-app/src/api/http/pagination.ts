/** Cursor pagination: a cursor is the sort key of the last item, as base64url JSON; anything else is refused. */
import { DEFAULT_PAGE, MAX_PAGE } from '@wharf/contracts';
import { ProblemError } from './problem-error.js';

export type CursorKey = readonly (string | number)[];

export const encodeCursor = (key: CursorKey): string => Buffer.from(JSON.stringify(key)).toString('base64url');

/** The key of `cursor`, checked against the shape the list hands out (`'s'` string, `'n'` positive integer). */
export function decodeCursor(cursor: string | undefined, shape: readonly ('s' | 'n')[]): CursorKey | null {
  if (cursor === undefined || cursor === '') return null;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ProblemError('invalid-cursor');
  }
  const ok =
    Array.isArray(key) &&
    key.length === shape.length &&
    key.every((v, i) => (shape[i] === 'n' ? Number.isSafeInteger(v) && (v as number) > 0 : typeof v === 'string' && v.length <= 200));
  if (!ok) throw new ProblemError('invalid-cursor');
  return key as CursorKey;
}

export const pageLimit = (limit: string | undefined): number => {
  const n = limit === undefined ? DEFAULT_PAGE : Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw new ProblemError('validation-failed', `limit must be 1–${MAX_PAGE}`, { errors: [{ field: 'query.limit', message: `must be 1–${MAX_PAGE}` }] });
  return n;
};

/** One page: the items, and the cursor of the next page when the list went on (one more row was read). */
export function pageOf<R, T>(rows: readonly R[], limit: number, view: (r: R) => T, keyOf: (r: R) => CursorKey): { items: T[]; nextCursor: string | null } {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return { items: shown.map(view), nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
