/** repository_refs: the branch heads Wharf last saw of a repository. Syncing compares them with what it reads now. */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { parseRows } from './rows.js';
import { repositoryFilter, type RepositoryScope } from './scope.js';

export const RepositoryRef = z.object({ ref: z.string(), sha: z.string() });
export type RepositoryRef = z.infer<typeof RepositoryRef>;

/** Branch heads as Wharf last saw them. */
export async function listRefs(db: CommonQueryMethods, scope: RepositoryScope): Promise<readonly RepositoryRef[]> {
  return db
    .any(sql.type(RepositoryRef)`SELECT ref, sha FROM repository_refs WHERE ${repositoryFilter(scope)} ORDER BY ref`)
    .then(parseRows(RepositoryRef));
}

export async function saveRef(db: CommonQueryMethods, scope: RepositoryScope, input: { ref: string; sha: string }): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO repository_refs (repository_id, tenant_id, ref, sha) VALUES (${scope.repositoryId}, ${scope.tenantId}, ${input.ref}, ${input.sha})
    ON CONFLICT (repository_id, ref) DO UPDATE SET sha = EXCLUDED.sha, updated_at = now()`);
}

export async function deleteRef(db: CommonQueryMethods, scope: RepositoryScope, ref: string): Promise<void> {
  await db.query(sql.unsafe`DELETE FROM repository_refs WHERE ${repositoryFilter(scope)} AND ref = ${ref}`);
}
