/** github_deployments: one GitHub deployment per (GitHub environment, commit), and the last status posted to it. */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, parseOne, parseRow, parseRows } from './rows.js';
import { repositoryFilter, type RepositoryScope, type TenantScope } from './scope.js';

export const DeploymentRecord = z.object({
  id: int8,
  tenant_id: int8,
  repository_id: int8,
  environment_id: int8.nullable(),
  pr_number: int8.nullable(),
  github_environment: z.string(),
  sha: z.string(),
  deployment_id: int8,
  last_state: z.string().nullable(),
  last_url: z.string().nullable(),
  last_description: z.string().nullable(),
});
export type DeploymentRecord = z.infer<typeof DeploymentRecord>;

const columns = sql.fragment`id, tenant_id, repository_id, environment_id, pr_number, github_environment, sha, deployment_id,
  last_state, last_url, last_description`;

export async function findDeployment(db: CommonQueryMethods, scope: RepositoryScope, githubEnvironment: string, sha: string): Promise<DeploymentRecord | null> {
  return db
    .maybeOne(sql.type(DeploymentRecord)`
    SELECT ${columns} FROM github_deployments WHERE ${repositoryFilter(scope)} AND github_environment = ${githubEnvironment} AND sha = ${sha}`)
    .then(parseRow(DeploymentRecord));
}

export async function saveDeployment(
  db: CommonQueryMethods,
  scope: RepositoryScope,
  d: { environmentId: number | null; prNumber: number | null; githubEnvironment: string; sha: string; deploymentId: number },
): Promise<DeploymentRecord> {
  return db
    .one(sql.type(DeploymentRecord)`
    INSERT INTO github_deployments (repository_id, tenant_id, environment_id, pr_number, github_environment, sha, deployment_id)
    VALUES (${scope.repositoryId}, ${scope.tenantId}, ${d.environmentId}, ${d.prNumber}, ${d.githubEnvironment}, ${d.sha}, ${d.deploymentId})
    ON CONFLICT (repository_id, github_environment, sha) DO UPDATE
      SET environment_id = coalesce(EXCLUDED.environment_id, github_deployments.environment_id)
    WHERE github_deployments.tenant_id = EXCLUDED.tenant_id
    RETURNING ${columns}`)
    .then(parseOne(DeploymentRecord));
}

export async function recordDeploymentState(
  db: CommonQueryMethods,
  scope: RepositoryScope,
  id: number,
  s: { state: string; url: string | null; description: string | null },
): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE github_deployments SET last_state = ${s.state}, last_url = coalesce(${s.url}, last_url),
      last_description = ${s.description}, updated_at = now() WHERE ${repositoryFilter(scope)} AND id = ${id}`);
}

export async function getDeployment(db: CommonQueryMethods, scope: TenantScope, id: number): Promise<DeploymentRecord | null> {
  return db
    .maybeOne(sql.type(DeploymentRecord)`SELECT ${columns} FROM github_deployments WHERE tenant_id = ${scope.tenantId} AND id = ${id}`)
    .then(parseRow(DeploymentRecord));
}

/** The newest deployment of a commit to a GitHub environment starting with `environmentPrefix`. */
export async function findDeploymentForSha(
  db: CommonQueryMethods,
  scope: RepositoryScope,
  sha: string,
  environmentPrefix: string,
): Promise<DeploymentRecord | null> {
  return db
    .maybeOne(sql.type(DeploymentRecord)`
    SELECT ${columns} FROM github_deployments
    WHERE ${repositoryFilter(scope)} AND sha = ${sha} AND github_environment LIKE ${`${environmentPrefix}%`}
    ORDER BY updated_at DESC LIMIT 1`)
    .then(parseRow(DeploymentRecord));
}

/** Deployments of a pull request's previews that are not inactive yet. */
export async function listLiveDeploymentsForPullRequest(db: CommonQueryMethods, scope: RepositoryScope, prNumber: number): Promise<readonly DeploymentRecord[]> {
  return db
    .any(sql.type(DeploymentRecord)`
    SELECT ${columns} FROM github_deployments
    WHERE ${repositoryFilter(scope)} AND pr_number = ${prNumber} AND coalesce(last_state, '') <> 'inactive' ORDER BY id`)
    .then(parseRows(DeploymentRecord));
}

/** The newest deployment of each GitHub environment of a pull request, for the comment. */
export async function listLatestDeploymentsForPullRequest(db: CommonQueryMethods, scope: RepositoryScope, prNumber: number): Promise<readonly DeploymentRecord[]> {
  return db
    .any(sql.type(DeploymentRecord)`
    SELECT DISTINCT ON (github_environment) ${columns} FROM github_deployments
    WHERE ${repositoryFilter(scope)} AND pr_number = ${prNumber} ORDER BY github_environment, id DESC`)
    .then(parseRows(DeploymentRecord));
}
