/**
 * The facts a pull request decision needs, read before anything is decided: the commit's version (fetched and
 * ingested by the source when it is new), what production runs, and the preview caps. A commit that cannot be found
 * is a fact (unreadable); a fetch that fails throws, so the delivery is retried and nothing is torn down.
 */
import type { Diagnostic, Manifest, WorkflowAppSpec } from '@wharf/contracts';
import { environmentViews, pullRequests, repositories, scopeOf, versions } from '@wharf/store';
import type { AppDeps } from '../types.js';
import type { AppFacts, CommitFacts, PullRequestFacts } from './decide-pull-request.js';
import { githubActor } from '../types.js';

const isCommitMissing = (err: unknown) => /could not find|not found|NotFoundError|missing/i.test(String((err as Error)?.message ?? err));

export async function gatherCommitFacts(deps: AppDeps, repo: repositories.GithubRepository, input: { sha: string; ref: string | null }): Promise<CommitFacts> {
  const { pool } = deps;
  const scope = scopeOf(repo);
  const repository = await repositories.getRepository(pool, scope);
  if (!repository) throw new Error(`repository ${repo.full_name} disappeared`);
  if (!(await versions.findVersion(pool, scope, input.sha))) await deps.source.fetchRemote(repository);
  let ingested: Awaited<ReturnType<AppDeps['source']['ingest']>>;
  try {
    ingested = await deps.source.ingest(repository, input.ref, input.sha);
  } catch (err) {
    if (!isCommitMissing(err)) throw err;
    return { kind: 'unreadable', sha: input.sha, reason: (err as Error).message };
  }
  const { version } = ingested;
  const production = new Map(
    (await environmentViews.listProductionSpecs(pool, scope)).flatMap((p) => (p.spec ? [[p.app, { files: p.spec.files, sha: p.spec.version.sha ?? null }] as const] : [])),
  );
  const apps: AppFacts[] = [];
  for (const a of ingested.apps) {
    const spec = a.spec as WorkflowAppSpec | null;
    apps.push({
      app: a.app,
      valid: a.valid,
      diagnostics: a.diagnostics as Diagnostic[],
      files: a.valid && spec ? spec.files : null,
      rollback: a.rollback_of_version_id ? await versions.describeRollback(pool, scope, version.id, a.app) : null,
    });
  }
  return {
    kind: 'read',
    sha: input.sha,
    versionId: version.id,
    manifest: (version.manifest as Manifest | null) ?? null,
    diagnostics: (version.diagnostics as Diagnostic[]) ?? [],
    apps,
    production,
  };
}

export async function gatherPullRequestFacts(deps: AppDeps, repo: repositories.GithubRepository, pr: pullRequests.PullRequest): Promise<PullRequestFacts> {
  const scope = scopeOf(repo);
  const live = (await environmentViews.listPreviewEnvironments(deps.pool, scope, pr.number)).filter((e) => !e.deletion_requested_at);
  return {
    number: pr.number,
    headSha: pr.head_sha,
    headRef: pr.head_ref,
    actor: githubActor(pr.fork && pr.approved_by ? pr.approved_by : (pr.author ?? 'unknown')),
    fork: pr.fork,
    draft: pr.draft,
    approvedSha: pr.approved_sha,
    activeInTenant: await environmentViews.countActivePreviews(deps.pool, scope, { repositoryId: repo.id, prNumber: pr.number }),
    tenantLimit: repo.max_previews,
    activeInRepository: await environmentViews.countActivePreviewsInRepository(deps.pool, scope, pr.number),
    suspended: repo.suspended,
    livePreviews: live.length,
  };
}
