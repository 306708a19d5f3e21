/** users: people who signed in with GitHub, and the local owner of `wharf up`. Not tenant data: a user belongs to organizations through memberships. */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, parseOne, parseRow } from './rows.js';

export const User = z.object({ id: int8, kind: z.enum(['github', 'local']), github_id: int8.nullable(), login: z.string(), name: z.string().nullable() });
export type User = z.infer<typeof User>;

const columns = sql.fragment`id, kind, github_id, login, name`;

/** Signs a GitHub user in: created the first time, login and name kept current. */
export async function upsertGithubUser(db: CommonQueryMethods, input: { githubId: number; login: string; name: string | null }): Promise<User & { created: boolean }> {
  const Row = User.extend({ created: z.boolean() });
  return db
    .one(sql.type(Row)`
    INSERT INTO users (kind, github_id, login, name, last_sign_in_at) VALUES ('github', ${input.githubId}, ${input.login}, ${input.name}, now())
    ON CONFLICT (github_id) DO UPDATE SET login = EXCLUDED.login, name = EXCLUDED.name, last_sign_in_at = now()
    RETURNING ${columns}, (xmax = 0) AS created`)
    .then(parseOne(Row));
}

export async function getUser(db: CommonQueryMethods, id: number): Promise<User | null> {
  return db.maybeOne(sql.type(User)`SELECT ${columns} FROM users WHERE id = ${id}`).then(parseRow(User));
}
