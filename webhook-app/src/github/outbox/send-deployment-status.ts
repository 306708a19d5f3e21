/**
 * Deployment statuses from the reconciler (`deployment_status` rows, ordered per environment): one GitHub deployment
 * per (GitHub environment, commit), created with auto_merge false and no required contexts, then its statuses.
 * A failure is posted like any other status and a later success replaces it. For previews the wharf/preview check
 * follows; the pull request's comment is refreshed (after a merge, the merged pull request's comment).
 */
import { type DeploymentState, type DeploymentStatusPayload, type EnvironmentKind, OUTBOX_KINDS, PRODUCTION_ENVIRONMENT, previewEnvironmentName, rollbackText } from '@wharf/contracts';
import { checkRuns, deployments, environmentViews, outbox, pullRequests, repositories, type RepositoryScope, scopeOf, versions } from '@wharf/store';
import { GITHUB_LIMITS, shortSha } from '../render/limits.js';
import { renderPreviewCheck, type PreviewStatus } from '../render/render-preview-check.js';
import { queueCheckRun, queueCommentRefresh } from '../reporter.js';
import { CHECK_NAMES, type AppDeps } from '../types.js';
import { ownerRepo, type Sender } from './types.js';


/** The reconciler's payload (contracts' DeploymentStatusPayload), read defensively: every field may be missing. */
type StatusPayload = Partial<DeploymentStatusPayload> & { state: DeploymentState };

/** `production` and `preview/pr-<n>` for a repository with one app; `/<app>` appended when it has several. */
export function githubEnvironmentName(kind: EnvironmentKind, prNumber: number | null, app: string, appCount: number): string {
  const base = kind === 'production' ? PRODUCTION_ENVIRONMENT : `preview/${previewEnvironmentName(prNumber ?? 0)}`;
  return appCount > 1 ? `${base}/${app}` : base;
}

async function appCount(deps: AppDeps, scope: RepositoryScope, sha: string): Promise<number> {
  const v = await versions.findVersion(deps.pool, scope, sha);
  return (v?.manifest as { apps?: unknown[] } | null)?.apps?.length ?? 1;
}

export const sendDeploymentStatus: Sender = async (deps, row) => {
  const p = row.payload as unknown as StatusPayload;
  const env = row.environment_id !== null ? await environmentViews.getReportedEnvironment(deps.pool, { tenantId: row.tenant_id }, row.environment_id) : null;
  const repositoryId = env?.repository_id ?? p.repositoryId;
  if (repositoryId === undefined) return { delivered: true, note: 'no repository' };
  const repo = await repositories.getGithubRepository(deps.pool, { tenantId: row.tenant_id, repositoryId });
  if (!repo) return { delivered: true, note: 'not a GitHub repository' };
  const scope = scopeOf(repo);
  const kind = env?.kind ?? p.environmentKind ?? (p.environment === PRODUCTION_ENVIRONMENT ? 'production' : 'preview');
  const prNumber = env?.pr_number ?? p.prNumber ?? null;
  const app = env?.app ?? p.app ?? 'app';
  const sha = p.sha ?? env?.desired_sha ?? null;
  if (!sha) return { delivered: true, note: 'no commit to report' };
  // An intermediate state already overtaken by a later row of this environment adds nothing (failures always go out).
  if ((p.state === 'in_progress' || p.state === 'queued' || p.state === 'pending') && row.environment_id !== null) {
    if (await outbox.hasLaterRowForEnvironment(deps.pool, row.id, row.environment_id, OUTBOX_KINDS.deploymentStatus)) {
      return { delivered: true, note: 'superseded' };
    }
  }
  const ghEnv = githubEnvironmentName(kind, prNumber, app, await appCount(deps, scope, sha));
  const octokit = await deps.client.installation(repo.installation_id);
  const { owner, repo: name } = ownerRepo(repo.full_name);
  const rollback = env && env.desired_sha === sha && env.rollback_of_sha ? rollbackText(env.rollback_of_sha, env.rollback_subject) : null;
  let record = await deployments.findDeployment(deps.pool, scope, ghEnv, sha);
  if (!record) {
    if (p.state === 'inactive') return { delivered: true, note: 'never deployed' };
    const { data } = await octokit.rest.repos.createDeployment({
      owner,
      repo: name,
      ref: sha,
      environment: ghEnv,
      description: (rollback ? `Wharf: ${rollback}` : `Wharf: deploy ${app} at ${shortSha(sha)}`).slice(0, GITHUB_LIMITS.deploymentDescriptionChars),
      auto_merge: false,
      required_contexts: [],
      transient_environment: kind === 'preview',
      production_environment: kind === 'production',
      payload: { app, environment: env?.name ?? p.environment ?? null },
    });
    if (!('id' in data)) throw new Error(`GitHub did not create the deployment: ${JSON.stringify(data)}`);
    record = await deployments.saveDeployment(deps.pool, scope, {
      environmentId: env?.id ?? p.environmentId ?? null,
      prNumber: kind === 'preview' ? prNumber : null,
      githubEnvironment: ghEnv,
      sha,
      deploymentId: data.id,
    });
  }
  if (p.state === 'inactive' && record.last_state === 'inactive') return { delivered: true, note: 'already inactive' };
  const url = p.url ?? env?.url ?? null;
  const description = [rollback, p.description].filter(Boolean).join(': ').slice(0, GITHUB_LIMITS.deploymentDescriptionChars) || null;
  await octokit.rest.repos.createDeploymentStatus({
    owner,
    repo: name,
    deployment_id: record.deployment_id,
    state: p.state === 'pending' ? 'queued' : p.state,
    ...(url && p.state !== 'inactive' ? { environment_url: url } : {}),
    ...(description ? { description } : {}),
    auto_inactive: true,
  });
  await deployments.recordDeploymentState(deps.pool, scope, record.id, { state: p.state, url: p.state === 'inactive' ? null : url, description });
  await followUp(deps, repo, row.id, { kind, prNumber, app, sha, state: p.state, url, description: description ?? '', logTail: p.logTail, rollback });
  return { delivered: true };
};

const checkRunKey = (db: Parameters<typeof checkRuns.latestRunKey>[0], repo: repositories.GithubRepository, sha: string) =>
  checkRuns.latestRunKey(db, scopeOf(repo), sha, CHECK_NAMES.preview);

async function followUp(
  deps: AppDeps,
  repo: repositories.GithubRepository,
  rowId: number,
  s: { kind: EnvironmentKind; prNumber: number | null; app: string; sha: string; state: DeploymentState; url: string | null; description: string; logTail?: string[]; rollback: string | null },
): Promise<void> {
  await deps.pool.transaction(async (tx) => {
    if (s.kind === 'preview' && s.prNumber !== null) {
      const pr = await pullRequests.getPullRequest(tx, scopeOf(repo), s.prNumber);
      if (!pr) return;
      const status: PreviewStatus | null =
        s.state === 'in_progress' || s.state === 'queued' || s.state === 'pending'
          ? { state: 'in_progress', sha: s.sha, app: s.app, description: s.description || 'Deploying' }
          : s.state === 'success'
            ? { state: 'success', sha: s.sha, app: s.app, url: s.url, description: s.description, rollback: s.rollback }
            : s.state === 'failure' || s.state === 'error'
              ? { state: 'failure', sha: s.sha, app: s.app, description: s.description || 'The deployment failed.', logTail: s.logTail }
              : null;
      if (status && pr.state === 'open') {
        const runKey = (await checkRunKey(tx, repo, s.sha)) ?? 'auto';
        await queueCheckRun(tx, { tenantId: repo.tenant_id, repositoryId: repo.id, headSha: s.sha, name: CHECK_NAMES.preview, runKey }, renderPreviewCheck(status), `status-${rowId}`);
      }
      if ((pr.summary as { commentsEnabled?: boolean }).commentsEnabled !== false) {
        await queueCommentRefresh(tx, { tenantId: repo.tenant_id, repositoryId: repo.id, prNumber: s.prNumber });
      }
      return;
    }
    const merged = await pullRequests.findPullRequestByMergeSha(tx, scopeOf(repo), s.sha);
    if (merged && (merged.summary as { commentsEnabled?: boolean }).commentsEnabled !== false) {
      await queueCommentRefresh(tx, { tenantId: repo.tenant_id, repositoryId: repo.id, prNumber: merged.number });
    }
  });
  deps.wakeDrain();
}

export const sendDeploymentInactive: Sender = async (deps, row) => {
  const { deploymentRecordId, description } = row.payload as { deploymentRecordId: number; description?: string };
  const record = await deployments.getDeployment(deps.pool, { tenantId: row.tenant_id }, deploymentRecordId);
  if (!record || record.last_state === 'inactive') return { delivered: true, note: 'already inactive' };
  const repo = await repositories.getGithubRepository(deps.pool, { tenantId: row.tenant_id, repositoryId: record.repository_id });
  if (!repo) return { delivered: true, note: 'repository gone' };
  const octokit = await deps.client.installation(repo.installation_id);
  const { owner, repo: name } = ownerRepo(repo.full_name);
  await octokit.rest.repos.createDeploymentStatus({ owner, repo: name, deployment_id: record.deployment_id, state: 'inactive', description: (description ?? 'Preview torn down').slice(0, 140) });
  await deployments.recordDeploymentState(deps.pool, scopeOf(repo), record.id, { state: 'inactive', url: null, description: description ?? null });
  return { delivered: true };
};
