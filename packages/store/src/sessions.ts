/** sessions: browser sessions (a cookie) and CLI user tokens. Only a hash of the token is kept; each is the user's own. */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, parseOne, parseRow, parseRows } from './rows.js';

export const Session = z.object({
  id: int8,
  user_id: int8,
  kind: z.enum(['browser', 'cli']),
  csrf_secret: z.string(),
  created_at: z.string(),
  last_seen_at: z.string(),
  expires_at: z.string(),
  user_agent: z.string().nullable(),
});
export type Session = z.infer<typeof Session>;

const columns = sql.fragment`id, user_id, kind, csrf_secret, created_at, last_seen_at, expires_at, user_agent`;

export async function createSession(
  db: CommonQueryMethods,
  input: { userId: number; kind: Session['kind']; tokenHash: Buffer; csrfSecret: string; ttlSeconds: number; userAgent: string | null; ip: string | null },
): Promise<Session> {
  return db
    .one(sql.type(Session)`
    INSERT INTO sessions (user_id, kind, token_hash, csrf_secret, expires_at, user_agent, ip)
    VALUES (${input.userId}, ${input.kind}, ${sql.binary(input.tokenHash)}, ${input.csrfSecret}, now() + make_interval(secs => ${input.ttlSeconds}),
      ${input.userAgent?.slice(0, 300) ?? null}, ${input.ip})
    RETURNING ${columns}`)
    .then(parseOne(Session));
}

/** The live session of a token's hash (not revoked, not expired), marked seen. */
export async function findLiveSession(db: CommonQueryMethods, tokenHash: Buffer, kind: Session['kind']): Promise<Session | null> {
  return db
    .maybeOne(sql.type(Session)`
    UPDATE sessions SET last_seen_at = now()
    WHERE token_hash = ${sql.binary(tokenHash)} AND kind = ${kind} AND revoked_at IS NULL AND expires_at > now()
    RETURNING ${columns}`)
    .then(parseRow(Session));
}

export async function listUserSessions(db: CommonQueryMethods, userId: number, page: { beforeId?: number; limit: number }): Promise<readonly Session[]> {
  return db
    .any(sql.type(Session)`
    SELECT ${columns} FROM sessions WHERE user_id = ${userId} AND revoked_at IS NULL AND expires_at > now()
      ${page.beforeId ? sql.fragment`AND id < ${page.beforeId}` : sql.fragment``}
    ORDER BY id DESC LIMIT ${page.limit}`)
    .then(parseRows(Session));
}

/** Revokes one of the user's sessions; false when the user has no such live session. */
export async function revokeSession(db: CommonQueryMethods, userId: number, id: number): Promise<boolean> {
  const res = await db.query(sql.unsafe`UPDATE sessions SET revoked_at = now() WHERE user_id = ${userId} AND id = ${id} AND revoked_at IS NULL`);
  return res.rowCount === 1;
}
