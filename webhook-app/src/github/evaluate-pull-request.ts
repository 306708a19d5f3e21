/**
 * One evaluation of a pull request's head commit: fetch and record the version, then report wharf/validate and
 * wharf/plan, decide the preview (and point `pr-<n>` at the version), and refresh the comment. Everything GitHub
 * must hear is queued in the outbox; a failure to fetch throws, so the delivery is retried and nothing is torn down.
 */
import { CODES, type Diagnostic, diffConfig, type Manifest, type WorkflowAppSpec } from '@wharf/contracts';
import { desiredState, github, repositories, versions } from '@wharf/store';
import { decidePreview } from './preview-policy.js';
import { renderPlanCheck, summarizeChanges, type AppPlan } from './render/render-plan-check.js';
import { renderPreviewCheck, renderPreviewRefusal } from './render/render-preview-check.js';
import { renderNoManifestCheck, renderUnreadableCheck, renderValidateCheck } from './render/render-validate-check.js';
import type { PullRequestSummary } from './render/render-comment.js';
import { queueCheckRun, queueCommentRefresh, type CheckRunTarget } from './reporter.js';
import { CHECK_NAMES, type AppDeps } from './types.js';
import type { Logger } from 'pino';

export interface EvaluateOptions {
  /** 'auto', or the delivery id of a re-run a user asked for. */
  runKey: string;
  /** Which checks to (re)post; default all three. */
  checks?: readonly (keyof typeof CHECK_NAMES)[];
  log: Logger;
}

const isCommitMissing = (err: unknown) => /could not find|not found|NotFoundError|missing/i.test(String((err as Error)?.message ?? err));

/** The files production runs per app, and its commit. */
async function productionFiles(deps: AppDeps, repositoryId: number): Promise<Map<string, { files: WorkflowAppSpec['files']; sha: string | null }>> {
  const envs = await desiredState.listEnvironments(deps.pool, repositoryId);
  const out = new Map<string, { files: WorkflowAppSpec['files']; sha: string | null }>();
  for (const e of envs) {
    if (e.kind !== 'production' || e.deletion_requested_at) continue;
    const spec = e.desired_spec as WorkflowAppSpec | null;
    if (spec?.files) out.set(e.app, { files: spec.files, sha: spec.version?.sha ?? null });
  }
  return out;
}

/** Validates and plans a commit (of a pull request or a branch); returns what it found, or null without a manifest. */
export async function validateAndPlan(
  deps: AppDeps,
  repo: github.GithubRepository,
  input: { sha: string; ref: string | null; runKey: string; checks: readonly (keyof typeof CHECK_NAMES)[] },
): Promise<{ version: versions.Version; apps: readonly versions.VersionApp[]; manifest: Manifest | null; summaryApps: PullRequestSummary['apps'] } | null> {
  const { pool } = deps;
  const repository = await repositories.getRepository(pool, repo.tenant_id, repo.id);
  if (!repository) throw new Error(`repository ${repo.full_name} disappeared`);
  const target = (name: (typeof CHECK_NAMES)[keyof typeof CHECK_NAMES]): CheckRunTarget => ({
    tenantId: repo.tenant_id,
    repositoryId: repo.id,
    headSha: input.sha,
    name,
    runKey: input.runKey,
  });
  const wants = (c: keyof typeof CHECK_NAMES) => input.checks.includes(c);
  if (wants('validate')) {
    await queueCheckRun(pool, target(CHECK_NAMES.validate), { status: 'in_progress', title: 'Validating', summary: `Reading ${input.sha.slice(0, 7)}…` });
    deps.wakeDrain();
  }
  let existing = await versions.findVersion(pool, repo.id, input.sha);
  if (!existing) await deps.source.fetchRemote(repository);
  let result: Awaited<ReturnType<AppDeps['source']['ingest']>>;
  try {
    result = await deps.source.ingest(repository, input.ref, input.sha);
  } catch (err) {
    if (!isCommitMissing(err)) throw err;
    if (wants('validate')) await queueCheckRun(pool, target(CHECK_NAMES.validate), renderUnreadableCheck(input.sha, (err as Error).message));
    return null;
  }
  existing = result.version;
  const manifest = existing.manifest as Manifest | null;
  // The version's diagnostics repeat its apps'; the manifest's own are the rest.
  const key = (d: Diagnostic) => `${d.file}:${d.line}:${d.column}:${d.code}:${d.message}`;
  const appKeys = new Set(result.apps.flatMap((a) => (a.diagnostics as Diagnostic[]).map(key)));
  const manifestDiagnostics = ((existing.diagnostics as Diagnostic[]) ?? []).filter((d) => !appKeys.has(key(d)));
  if (!manifest && manifestDiagnostics.every((d) => d.code === CODES.NoManifest)) {
    await pool.transaction(async (tx) => {
      if (wants('validate')) await queueCheckRun(tx, target(CHECK_NAMES.validate), renderNoManifestCheck(input.sha));
      if (wants('plan')) {
        await queueCheckRun(tx, target(CHECK_NAMES.plan), { status: 'completed', conclusion: 'neutral', title: 'Nothing to plan', summary: 'No `wharf.yaml` in this commit.' });
      }
    });
    return { version: existing, apps: [], manifest: null, summaryApps: [] };
  }
  const prod = await productionFiles(deps, repo.id);
  const plans: AppPlan[] = [];
  const summaryApps: PullRequestSummary['apps'] = [];
  for (const a of result.apps) {
    const spec = a.spec as WorkflowAppSpec | null;
    const before = prod.get(a.app);
    const changes = a.valid && spec ? diffConfig(a.app, before?.files ?? null, spec.files).changes : null;
    const rollback = a.rollback_of_version_id ? await versions.describeRollback(pool, existing.id, a.app) : null;
    plans.push({ app: a.app, changes, productionSha: before?.sha ?? null, rollback });
    const ds = a.diagnostics as Diagnostic[];
    summaryApps.push({
      app: a.app,
      valid: a.valid,
      errors: ds.filter((d) => d.severity === 'error').length,
      warnings: ds.filter((d) => d.severity === 'warning').length,
      plan: summarizeChanges(changes),
      rollback,
    });
  }
  await pool.transaction(async (tx) => {
    if (wants('validate')) {
      const output = renderValidateCheck({
        sha: input.sha,
        manifestDiagnostics,
        apps: result.apps.map((a) => ({ app: a.app, valid: a.valid, diagnostics: a.diagnostics as Diagnostic[] })),
      });
      await queueCheckRun(tx, target(CHECK_NAMES.validate), output);
    }
    if (wants('plan')) await queueCheckRun(tx, target(CHECK_NAMES.plan), renderPlanCheck({ sha: input.sha, apps: plans }));
  });
  deps.wakeDrain();
  return { version: existing, apps: result.apps, manifest, summaryApps };
}

const DEFAULT_PREVIEWS = { enabled: true, ttlHours: 72, forkPolicy: 'approval', maxConcurrent: 10, drafts: false } as const;

export async function evaluatePullRequest(deps: AppDeps, repo: github.GithubRepository, pr: github.PullRequest, options: EvaluateOptions): Promise<void> {
  const { pool } = deps;
  const checks = options.checks ?? (['validate', 'plan', 'preview'] as const);
  const found = await validateAndPlan(deps, repo, { sha: pr.head_sha, ref: pr.fork ? null : pr.head_ref, runKey: options.runKey, checks });
  const previewTarget: CheckRunTarget = { tenantId: repo.tenant_id, repositoryId: repo.id, headSha: pr.head_sha, name: CHECK_NAMES.preview, runKey: options.runKey };
  if (!found) return;
  const manifest = found.manifest;
  const commentsEnabled = manifest?.comments?.enabled ?? true;
  if (!manifest) {
    await pool.transaction(async (tx) => {
      if (checks.includes('preview')) await queueCheckRun(tx, previewTarget, renderPreviewRefusal({ reason: 'no-manifest' }));
      await github.setSummary(tx, repo.id, pr.number, { sha: pr.head_sha, apps: [], noManifest: true, commentsEnabled } satisfies PullRequestSummary);
      if (commentsEnabled) await queueCommentRefresh(tx, { tenantId: repo.tenant_id, repositoryId: repo.id, prNumber: pr.number });
    });
    deps.wakeDrain();
    return;
  }
  const settings = manifest.previews ?? DEFAULT_PREVIEWS;
  const decision = decidePreview({
    settings,
    fork: pr.fork,
    draft: pr.draft,
    headSha: pr.head_sha,
    approvedSha: pr.approved_sha,
    validApps: found.apps.filter((a) => a.valid).map((a) => a.app),
    invalidApps: found.apps.filter((a) => !a.valid).map((a) => a.app),
    activeInTenant: await github.countActivePreviews(pool, repo.tenant_id, { repositoryId: repo.id, prNumber: pr.number }),
    tenantLimit: repo.max_previews,
    activeInRepository: await github.countActivePreviewsInRepository(pool, repo.id, pr.number),
    suspended: repo.suspended,
  });
  const live = (await github.listPreviewEnvironments(pool, repo.id, pr.number)).filter((e) => !e.deletion_requested_at);
  if (decision.deploy && checks.includes('preview')) {
    const repository = await repositories.getRepository(pool, repo.tenant_id, repo.id);
    if (!repository) return;
    if (decision.withSecrets) {
      await deps.source.setDesiredFromVersion({
        repository,
        versionId: found.version.id,
        envName: `pr-${pr.number}`,
        kind: 'preview',
        branch: pr.head_ref,
        prNumber: pr.number,
      });
    } else {
      await setForkPreview(deps, repository, found.version, found.apps.filter((a) => a.valid), pr);
    }
    options.log.info({ pr: pr.number, sha: pr.head_sha, apps: decision.apps, fork: pr.fork }, 'preview requested');
  } else if (!decision.deploy && decision.refusal.reason === 'invalid' && live.length > 0) {
    // Every app is invalid: the preview stays on its last good version (source marks it stalled).
    const repository = await repositories.getRepository(pool, repo.tenant_id, repo.id);
    if (repository && !pr.fork) {
      await deps.source.setDesiredFromVersion({ repository, versionId: found.version.id, envName: `pr-${pr.number}`, kind: 'preview', branch: pr.head_ref, prNumber: pr.number });
    }
  }
  const summary: PullRequestSummary = {
    sha: pr.head_sha,
    apps: found.summaryApps,
    previewRefusal: decision.deploy ? null : renderPreviewRefusal(decision.refusal).title,
    ttlHours: settings.ttlHours,
    commentsEnabled,
  };
  await pool.transaction(async (tx) => {
    if (checks.includes('preview')) {
      await queueCheckRun(
        tx,
        previewTarget,
        decision.deploy ? renderPreviewCheck({ state: 'queued', sha: pr.head_sha, apps: decision.apps }) : renderPreviewRefusal(decision.refusal),
      );
    }
    await github.setSummary(tx, repo.id, pr.number, summary as unknown as Record<string, unknown>);
    if (commentsEnabled) await queueCommentRefresh(tx, { tenantId: repo.tenant_id, repositoryId: repo.id, prNumber: pr.number });
  });
  deps.wakeDrain();
}

/**
 * A fork's preview: the same desired state as any preview, minus every secret reference, written under the row
 * lock so that no reconcile ever sees a secret for it.
 */
async function setForkPreview(
  deps: AppDeps,
  repository: repositories.Repository,
  version: versions.Version,
  apps: readonly versions.VersionApp[],
  pr: github.PullRequest,
): Promise<void> {
  const manifest = version.manifest as Manifest | null;
  await deps.pool.transaction(async (tx) => {
    for (const app of apps) {
      const spec = app.spec as WorkflowAppSpec | null;
      if (!spec) continue;
      const envName = `pr-${pr.number}`;
      const existing = await desiredState.lockEnvironment(tx, repository.id, app.app, envName);
      if (existing && existing.desired_digest === app.digest && existing.deletion_requested_at === null) continue;
      const manifestApp = manifest?.apps.find((a) => a.name === app.app);
      await desiredState.writeDesired(tx, {
        tenantId: repository.tenant_id,
        repositoryId: repository.id,
        app: app.app,
        name: envName,
        kind: 'preview',
        branch: null,
        prNumber: pr.number,
        target: manifestApp?.target ?? existing?.target ?? 'local',
        driftMode: manifestApp?.driftMode ?? 'correct',
        versionId: version.id,
        digest: app.digest,
        spec: { ...spec, environment: envName, version: { sha: version.sha, digest: app.digest }, env: (spec.env ?? []).filter((e) => !e.secretRef) },
        conditions: (existing?.conditions as unknown[]) ?? [],
      });
    }
  });
}
