import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

export const Repository = z.object({
  id: z.number(),
  tenant_id: z.number(),
  provider: z.enum(['github', 'local', 'git']),
  full_name: z.string(),
  url: z.string(),
  default_branch: z.string(),
  external_id: z.string().nullable(),
});
export type Repository = z.infer<typeof Repository>;

const columns = sql.fragment`id, tenant_id, provider, full_name, url, default_branch, external_id`;

export async function upsertRepository(
  db: CommonQueryMethods,
  input: { tenantId: number; provider: Repository['provider']; fullName: string; url: string; defaultBranch: string; externalId?: string },
): Promise<Repository> {
  return db.one(sql.type(Repository)`
    INSERT INTO repositories (tenant_id, provider, full_name, url, default_branch, external_id)
    VALUES (${input.tenantId}, ${input.provider}, ${input.fullName}, ${input.url}, ${input.defaultBranch}, ${input.externalId ?? null})
    ON CONFLICT (tenant_id, full_name) DO UPDATE
      SET url = EXCLUDED.url, default_branch = EXCLUDED.default_branch, external_id = EXCLUDED.external_id
    RETURNING ${columns}`);
}

/** Every read is scoped by tenant. */
export async function getRepository(db: CommonQueryMethods, tenantId: number, id: number): Promise<Repository | null> {
  return db.maybeOne(sql.type(Repository)`SELECT ${columns} FROM repositories WHERE tenant_id = ${tenantId} AND id = ${id}`);
}

export async function listRepositories(db: CommonQueryMethods, tenantId: number): Promise<readonly Repository[]> {
  return db.any(sql.type(Repository)`SELECT ${columns} FROM repositories WHERE tenant_id = ${tenantId} ORDER BY id`);
}
