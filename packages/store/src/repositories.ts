/**
 * repositories: what a tenant has Wharf watch. A GitHub repository is found by its installation (the tenant's
 * external id) and full name, as webhook deliveries name it; every other read is scoped by tenant.
 */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, parseOne, parseRow, parseRows } from './rows.js';
import { restrictedFilter, type RestrictedScope, type RepositoryScope } from './scope.js';

export const REPOSITORY_PROVIDERS = ['github', 'local', 'git'] as const;

export const Repository = z.object({
  id: int8,
  tenant_id: int8,
  provider: z.enum(REPOSITORY_PROVIDERS),
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
  return db
    .one(sql.type(Repository)`
    INSERT INTO repositories (tenant_id, provider, full_name, url, default_branch, external_id)
    VALUES (${input.tenantId}, ${input.provider}, ${input.fullName}, ${input.url}, ${input.defaultBranch}, ${input.externalId ?? null})
    ON CONFLICT (tenant_id, full_name) DO UPDATE
      SET url = EXCLUDED.url, default_branch = EXCLUDED.default_branch, external_id = EXCLUDED.external_id
    RETURNING ${columns}`)
    .then(parseOne(Repository));
}

export async function getRepository(db: CommonQueryMethods, scope: RepositoryScope): Promise<Repository | null> {
  return db
    .maybeOne(sql.type(Repository)`SELECT ${columns} FROM repositories WHERE tenant_id = ${scope.tenantId} AND id = ${scope.repositoryId}`)
    .then(parseRow(Repository));
}

/** A GitHub repository with what the App needs of its tenant (installation, preview cap, suspension). */
export const GithubRepository = z.object({
  id: int8,
  tenant_id: int8,
  full_name: z.string(),
  default_branch: z.string(),
  installation_id: z.string(),
  /** An operator's override of the plan's preview limit; null: the plan's. */
  max_previews: int8.nullable(),
  plan: z.string(),
  /** Past due beyond the grace period: previews are paused (billing). */
  billing_paused: z.boolean(),
  suspended: z.boolean(),
});
export type GithubRepository = z.infer<typeof GithubRepository>;

const githubColumns = sql.fragment`r.id, r.tenant_id, r.full_name, r.default_branch, t.external_id AS installation_id,
  t.max_previews, t.plan,
  EXISTS (SELECT 1 FROM billing_accounts b WHERE b.tenant_id = t.id AND b.previews_paused_at IS NOT NULL) AS billing_paused,
  (t.suspended_at IS NOT NULL) AS suspended`;

/** The repository a delivery of this installation names. */
export async function findGithubRepository(db: CommonQueryMethods, installationId: string, fullName: string): Promise<GithubRepository | null> {
  return db
    .maybeOne(sql.type(GithubRepository)`
    SELECT ${githubColumns} FROM repositories r JOIN tenants t ON t.id = r.tenant_id
    WHERE t.kind = 'github' AND t.external_id = ${installationId} AND r.provider = 'github' AND r.full_name = ${fullName}`)
    .then(parseRow(GithubRepository));
}

export async function getGithubRepository(db: CommonQueryMethods, scope: RepositoryScope): Promise<GithubRepository | null> {
  return db
    .maybeOne(sql.type(GithubRepository)`
    SELECT ${githubColumns} FROM repositories r JOIN tenants t ON t.id = r.tenant_id
    WHERE r.id = ${scope.repositoryId} AND r.tenant_id = ${scope.tenantId} AND t.kind = 'github'`)
    .then(parseRow(GithubRepository));
}

export async function setDefaultBranch(db: CommonQueryMethods, scope: RepositoryScope, branch: string): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE repositories SET default_branch = ${branch}
    WHERE id = ${scope.repositoryId} AND tenant_id = ${scope.tenantId} AND default_branch <> ${branch}`);
}

/** A page of an organization's repositories by id (only the allowed ones for a restricted key). */
export async function listRepositoryPage(db: CommonQueryMethods, scope: RestrictedScope, page: { afterId?: number; limit: number }): Promise<readonly Repository[]> {
  return db
    .any(sql.type(Repository)`
    SELECT r.id, r.tenant_id, r.provider, r.full_name, r.url, r.default_branch, r.external_id FROM repositories r
    WHERE ${restrictedFilter(scope, 'r', 'id')} AND r.id > ${page.afterId ?? 0} ORDER BY r.id LIMIT ${page.limit}`)
    .then(parseRows(Repository));
}
