/**
 * Deployment statuses from the reconciler (`deployment_status` rows, ordered per environment): one GitHub deployment
 * per (GitHub environment, commit), created with auto_merge false and no required contexts, then its statuses.
 *
 * Each row is first prepared (no GitHub request): for a preview, the wharf/preview check it leads to is queued, so
 * the check with the preview's URL goes out as soon as the installation's next write allows, not after the
 * deployment's two writes. Then the row is sent by priority, and the comment (a pull request's, or after a merge the
 * merged pull request's) is refreshed. An intermediate state already overtaken by a later row of the environment, and a
 * success repeated for the same commit, are not sent; a failure always is, and a later success replaces it.
 */
import {
  type DeploymentState,
  type DeploymentStatusPayload,
  type EnvironmentKind,
  OUTBOX_KINDS,
  PRODUCTION_ENVIRONMENT,
  previewEnvironmentName,
  rollbackText,
} from '@wharf/contracts';
import {
  checkRuns,
  type CommonQueryMethods,
  deployments,
  environmentViews,
  outbox,
  pullRequests,
  repositories,
  type RepositoryScope,
  scopeOf,
  versions,
} from '@wharf/store';
import { GITHUB_LIMITS, shortSha } from '../render/limits.js';
import { renderPreviewCheck, type PreviewStatus } from '../render/render-preview-check.js';
import { queueCheckRun, queueCommentRefresh } from '../reporter.js';
import { CHECK_NAMES, type AppDeps } from '../types.js';
import { deploymentPriority } from './priority.js';
import { ownerRepo, type Sender } from './types.js';

/** The reconciler's payload (contracts' DeploymentStatusPayload), read defensively: every field may be missing. */
type StatusPayload = Partial<DeploymentStatusPayload> & { state: DeploymentState };

const PROGRESS_STATES: ReadonlySet<DeploymentState> = new Set(['in_progress', 'queued', 'pending']);

/** `production` and `preview/pr-<n>` for a repository with one app; `/<app>` appended when it has several. */
export function githubEnvironmentName(kind: EnvironmentKind, prNumber: number | null, app: string, appCount: number): string {
  const base = kind === 'production' ? PRODUCTION_ENVIRONMENT : `preview/${previewEnvironmentName(prNumber ?? 0)}`;
  return appCount > 1 ? `${base}/${app}` : base;
}

async function appCount(db: CommonQueryMethods, scope: RepositoryScope, sha: string): Promise<number> {
  const v = await versions.findVersion(db, scope, sha);
  return (v?.manifest as { apps?: unknown[] } | null)?.apps?.length ?? 1;
}

interface DescribedStatus {
  repo: repositories.GithubRepository;
  environmentId: number | null;
  kind: EnvironmentKind;
  prNumber: number | null;
  app: string;
  envName: string | null;
  sha: string;
  state: DeploymentState;
  url: string | null;
  /** Rollback text joined with the reconciler's description, cut to GitHub's 140 characters. */
  description: string | null;
  rollback: string | null;
  logTail?: string[];
}

/** Everything a status row says, completed from the environment it is about. */
async function describeStatus(db: CommonQueryMethods, row: outbox.ClaimedOutboxRow): Promise<DescribedStatus | { note: string }> {
  const p = row.payload as unknown as StatusPayload;
  const env = row.environment_id !== null ? await environmentViews.getReportedEnvironment(db, { tenantId: row.tenant_id }, row.environment_id) : null;
  const repositoryId = env?.repository_id ?? p.repositoryId;
  if (repositoryId === undefined) return { note: 'no repository' };
  const repo = await repositories.getGithubRepository(db, { tenantId: row.tenant_id, repositoryId });
  if (!repo) return { note: 'not a GitHub repository' };
  const sha = p.sha ?? env?.desired_sha ?? null;
  if (!sha) return { note: 'no commit to report' };
  const rollback = env && env.desired_sha === sha && env.rollback_of_sha ? rollbackText(env.rollback_of_sha, env.rollback_subject) : null;
  return {
    repo,
    environmentId: env?.id ?? p.environmentId ?? null,
    kind: env?.kind ?? p.environmentKind ?? (p.environment === PRODUCTION_ENVIRONMENT ? 'production' : 'preview'),
    prNumber: env?.pr_number ?? p.prNumber ?? null,
    app: env?.app ?? p.app ?? 'app',
    envName: env?.name ?? p.environment ?? null,
    sha,
    state: p.state,
    url: p.url ?? env?.url ?? null,
    description: [rollback, p.description].filter(Boolean).join(': ').slice(0, GITHUB_LIMITS.deploymentDescriptionChars) || null,
    rollback,
    logTail: p.logTail,
  };
}

/** True when a later row of the environment makes this one add nothing (never for a failure). */
async function superseded(db: CommonQueryMethods, row: outbox.ClaimedOutboxRow, s: Pick<DescribedStatus, 'state' | 'sha'>): Promise<boolean> {
  if (row.environment_id === null) return false;
  if (PROGRESS_STATES.has(s.state)) return outbox.hasLaterRowForEnvironment(db, row.id, row.environment_id, OUTBOX_KINDS.deploymentStatus);
  if (s.state === 'success') {
    return outbox.hasLaterRowForEnvironment(db, row.id, row.environment_id, OUTBOX_KINDS.deploymentStatus, { state: 'success', sha: s.sha });
  }
  return false;
}

/** The run the preview check's updates go to: the newest run of wharf/preview on this commit (a Re-run makes one). */
const previewRunKey = async (db: CommonQueryMethods, repo: repositories.GithubRepository, sha: string) =>
  (await checkRuns.latestRunKey(db, scopeOf(repo), sha, CHECK_NAMES.preview)) ?? 'auto';

/**
 * Prepares one row in the caller's transaction: its priority, and for a preview the wharf/preview check it leads to.
 * False when another process prepared it first.
 */
export async function prepareDeploymentStatus(tx: CommonQueryMethods, row: outbox.ClaimedOutboxRow): Promise<boolean> {
  const p = row.payload as unknown as StatusPayload;
  if (!(await outbox.markPrepared(tx, row.id, deploymentPriority(p.state)))) return false;
  const s = await describeStatus(tx, row);
  if ('note' in s || s.kind !== 'preview' || s.prNumber === null || (await superseded(tx, row, s))) return true;
  const { repo } = s;
  const pr = await pullRequests.getPullRequest(tx, scopeOf(repo), s.prNumber);
  if (pr?.state !== 'open') return true;
  const description = s.description ?? '';
  const status: PreviewStatus | null = PROGRESS_STATES.has(s.state)
    ? { state: 'in_progress', sha: s.sha, app: s.app, description: description || 'Deploying' }
    : s.state === 'success'
      ? { state: 'success', sha: s.sha, app: s.app, url: s.url, description, rollback: s.rollback }
      : s.state === 'failure' || s.state === 'error'
        ? { state: 'failure', sha: s.sha, app: s.app, description: description || 'The deployment failed.', logTail: s.logTail }
        : null;
  if (status) {
    const target = { tenantId: repo.tenant_id, repositoryId: repo.id, headSha: s.sha, name: CHECK_NAMES.preview, runKey: await previewRunKey(tx, repo, s.sha) };
    await queueCheckRun(tx, target, renderPreviewCheck(status), `status-${row.id}`);
  }
  return true;
}

/** The comment shows deployments' states: refreshed once one is recorded (after a merge, the merged pull request's). */
async function refreshComment(deps: AppDeps, s: DescribedStatus): Promise<void> {
  const scope = scopeOf(s.repo);
  const pr =
    s.kind === 'preview' && s.prNumber !== null
      ? await pullRequests.getPullRequest(deps.pool, scope, s.prNumber)
      : await pullRequests.findPullRequestByMergeSha(deps.pool, scope, s.sha);
  if (!pr || (pr.summary as { commentsEnabled?: boolean }).commentsEnabled === false) return;
  await queueCommentRefresh(deps.pool, { tenantId: s.repo.tenant_id, repositoryId: s.repo.id, prNumber: pr.number });
  deps.wakeDrain();
}

export const sendDeploymentStatus: Sender = async (deps, row) => {
  const s = await describeStatus(deps.pool, row);
  if ('note' in s) return { delivered: true, note: s.note };
  if (await superseded(deps.pool, row, s)) return { delivered: true, note: 'superseded' };
  const { repo } = s;
  const scope = scopeOf(repo);
  const ghEnv = githubEnvironmentName(s.kind, s.prNumber, s.app, await appCount(deps.pool, scope, s.sha));
  const octokit = await deps.client.installation(repo.installation_id);
  const { owner, repo: name } = ownerRepo(repo.full_name);
  let record = await deployments.findDeployment(deps.pool, scope, ghEnv, s.sha);
  if (!record) {
    if (s.state === 'inactive') return { delivered: true, note: 'never deployed' };
    const { data } = await octokit.rest.repos.createDeployment({
      owner,
      repo: name,
      ref: s.sha,
      environment: ghEnv,
      description: (s.rollback ? `Wharf: ${s.rollback}` : `Wharf: deploy ${s.app} at ${shortSha(s.sha)}`).slice(0, GITHUB_LIMITS.deploymentDescriptionChars),
      auto_merge: false,
      required_contexts: [],
      transient_environment: s.kind === 'preview',
      production_environment: s.kind === 'production',
      payload: { app: s.app, environment: s.envName },
    });
    if (!('id' in data)) throw new Error(`GitHub did not create the deployment: ${JSON.stringify(data)}`);
    record = await deployments.saveDeployment(deps.pool, scope, {
      environmentId: s.environmentId,
      prNumber: s.kind === 'preview' ? s.prNumber : null,
      githubEnvironment: ghEnv,
      sha: s.sha,
      deploymentId: data.id,
    });
  }
  if (s.state === 'inactive' && record.last_state === 'inactive') return { delivered: true, note: 'already inactive' };
  await octokit.rest.repos.createDeploymentStatus({
    owner,
    repo: name,
    deployment_id: record.deployment_id,
    state: s.state === 'pending' ? 'queued' : s.state,
    ...(s.url && s.state !== 'inactive' ? { environment_url: s.url } : {}),
    ...(s.description ? { description: s.description } : {}),
    auto_inactive: true,
  });
  await deployments.recordDeploymentState(deps.pool, scope, record.id, { state: s.state, url: s.state === 'inactive' ? null : s.url, description: s.description });
  await refreshComment(deps, s);
  return { delivered: true };
};

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
