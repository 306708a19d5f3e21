/**
 * The facts a pull request decision needs, read before anything is decided: the commit's version (fetched and
 * ingested by the source when it is new: a pull request's head from `refs/pull/<n>/head`, where GitHub keeps it, the
 * only place a fork's commits are; a branch's head from that branch alone), the base branch's manifest (the preview
 * policy), what production runs, and the preview caps. A commit that cannot be found is a fact (unreadable), and so is
 * one Wharf refuses to fetch (over a fetch limit); a fetch that fails otherwise throws, so the delivery is retried and
 * nothing is torn down.
 */
import { billingPlan, previewLimit, type Diagnostic, type Manifest, type WorkflowAppSpec } from '@wharf/contracts';
import { isFetchRefused, RefNotFoundError } from '@wharf/source';
import { environmentViews, type pullRequests, repositories, scopeOf, versions } from '@wharf/store';
import type { AppDeps } from '../types.js';
import type { AppFacts, CommitFacts, PullRequestFacts } from './decide-pull-request.js';
import { githubActor } from '../types.js';

type Repository = repositories.Repository;

const isCommitMissing = (err: unknown) => /could not find|not found|NotFoundError|missing|is not on/i.test(String((err as Error)?.message ?? err));

/** Where a commit is fetched from: a pull request's head ref, or a branch. */
export type CommitSource = { pullNumber: number } | { branch: string } | null;

/** Fetches the one ref the commit is on; a refusal or a missing ref is a fact about the commit, not a failure. */
async function fetchCommit(deps: AppDeps, repository: Repository, sha: string, from: CommitSource): Promise<CommitFacts | null> {
  try {
    if (from && 'pullNumber' in from) await deps.source.fetchPullHead(repository, from.pullNumber);
    else if (from) await deps.source.fetchRefs(repository, [`refs/heads/${from.branch}`]);
    return null;
  } catch (err) {
    if (isFetchRefused(err)) return { kind: 'refused', sha, reason: err.message };
    if (err instanceof RefNotFoundError) return { kind: 'unreadable', sha, reason: err.message };
    throw err;
  }
}

export async function gatherCommitFacts(
  deps: AppDeps,
  repo: repositories.GithubRepository,
  input: { sha: string; ref: string | null; from: CommitSource },
): Promise<CommitFacts> {
  const { pool } = deps;
  const scope = scopeOf(repo);
  const repository = await repositories.getRepository(pool, scope);
  if (!repository) throw new Error(`repository ${repo.full_name} disappeared`);
  if (!(await versions.findVersion(pool, scope, input.sha))) {
    const refused = await fetchCommit(deps, repository, input.sha, input.from);
    if (refused) return refused;
  }
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

/**
 * The manifest at the head of the base branch, fetched from that branch alone: it, not the pull request's head,
 * decides how the pull request is previewed. Null when the branch has no readable manifest (the defaults apply:
 * forks need approval) or cannot be fetched within the limits.
 */
export async function gatherBaseManifest(deps: AppDeps, repository: Repository, baseRef: string): Promise<Manifest | null> {
  const ref = `refs/heads/${baseRef}`;
  let sha: string | undefined;
  try {
    sha = (await deps.source.fetchRefs(repository, [ref])).fetched.get(ref);
  } catch (err) {
    if (isFetchRefused(err) || err instanceof RefNotFoundError) {
      deps.log.warn({ err, repository: repository.full_name, ref }, 'base branch not readable: preview policy defaults apply');
      return null;
    }
    throw err;
  }
  if (!sha) return null;
  const { version } = await deps.source.ingest(repository, baseRef, sha);
  return (version.manifest as Manifest | null) ?? null;
}

export async function gatherPullRequestFacts(deps: AppDeps, repo: repositories.GithubRepository, pr: pullRequests.PullRequest): Promise<PullRequestFacts> {
  const scope = scopeOf(repo);
  const repository = await repositories.getRepository(deps.pool, scope);
  if (!repository) throw new Error(`repository ${repo.full_name} disappeared`);
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
    tenantLimit: previewLimit(repo.plan, repo.max_previews),
    plan: billingPlan(repo.plan).name,
    billingPaused: repo.billing_paused,
    activeInRepository: await environmentViews.countActivePreviewsInRepository(deps.pool, scope, pr.number),
    suspended: repo.suspended,
    livePreviews: live.length,
    baseManifest: await gatherBaseManifest(deps, repository, pr.base_ref),
  };
}
