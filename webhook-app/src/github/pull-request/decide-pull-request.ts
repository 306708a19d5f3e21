/**
 * The decision about one commit of a pull request (or of a branch, when no pull request is open for it): what the
 * validation found, what production would change, and whether and how the preview deploys. One pure value, decided
 * from facts gathered beforehand (gather-facts.ts); the checks, the comment's summary and the desired-state write are
 * all rendered or done from it (render-pull-request.ts, send-pull-request.ts).
 */
import { type ConfigChange, CODES, DEFAULT_TARGET, type Diagnostic, diffConfig, type Manifest, type PreviewSettings, type WorkflowFile } from '@wharf/contracts';
import { decidePreview, type PreviewDecision } from '../preview-policy.js';
import type { PreviewRefusal } from '../render/render-preview-check.js';
import type { CheckKey } from '../types.js';

export interface AppFacts {
  app: string;
  valid: boolean;
  diagnostics: Diagnostic[];
  /** The app's workflow files at this commit; null when the app is invalid. */
  files: WorkflowFile[] | null;
  /** "rollback to <sha> (<subject>)" when this version equals an earlier one. */
  rollback: string | null;
}

export type CommitFacts =
  | { kind: 'unreadable'; sha: string; reason: string }
  /** Wharf refused to fetch it (a pack or ref list over a fetch limit): nothing was read. */
  | { kind: 'refused'; sha: string; reason: string }
  | {
      kind: 'read';
      sha: string;
      versionId: number;
      manifest: Manifest | null;
      /** Every diagnostic of the version: the manifest's and each app's. */
      diagnostics: Diagnostic[];
      apps: AppFacts[];
      /** What production runs per app, with its commit. */
      production: ReadonlyMap<string, { files: WorkflowFile[]; sha: string | null }>;
    };

export interface PullRequestFacts {
  number: number;
  headSha: string;
  headRef: string;
  /** Who a preview deploy is attributed to in the audit log: the approver of a fork's commit, else the author. */
  actor: string;
  fork: boolean;
  draft: boolean;
  approvedSha: string | null;
  activeInTenant: number;
  /** Previews the organization may run at once (its plan's, or an operator's override); null: no limit. */
  tenantLimit: number | null;
  /** The plan's name, for the check that explains its limit. */
  plan?: string;
  /** Past due beyond the grace period: no new previews (billing). */
  billingPaused?: boolean;
  activeInRepository: number;
  suspended: boolean;
  /** Live (not deleting) preview environments of this pull request. */
  livePreviews: number;
  /**
   * The manifest at the head of the pull request's base branch (null: none there, or invalid). The preview policy,
   * TTL, draft rule and comment setting come from it, never from the head a pull request's author controls.
   */
  baseManifest: Manifest | null;
}

export interface AppFinding {
  app: string;
  valid: boolean;
  diagnostics: Diagnostic[];
  /** What production would see change; null when the app is invalid (not planned). */
  changes: ConfigChange[] | null;
  productionSha: string | null;
  rollback: string | null;
}

export type CommitDecision =
  | { kind: 'unreadable'; sha: string; reason: string }
  | { kind: 'refused'; sha: string; reason: string }
  | { kind: 'no-manifest'; sha: string; versionId: number }
  /** Validated and planned; `manifest` null when wharf.yaml itself is invalid (its diagnostics say why). */
  | { kind: 'evaluated'; sha: string; versionId: number; manifest: Manifest | null; manifestDiagnostics: Diagnostic[]; apps: AppFinding[] };

/** What happens to the preview's desired state. */
export type DesiredAction =
  | { kind: 'none' }
  | { kind: 'deploy'; apps: string[]; stripSecrets: boolean; branch: string | null; actor: string }
  /** Every app is invalid and a preview is live: the preview keeps its last good version and says why (Stalled). */
  | { kind: 'record-invalid'; branch: string; actor: string };

export interface PullRequestDecision {
  commit: CommitDecision;
  /** Which checks to (re)post. */
  checks: readonly CheckKey[];
  /** Absent for a commit without a pull request (a branch push, a check suite). */
  pullRequest: {
    number: number;
    headSha: string;
    headRef: string;
    preview: PreviewDecision | { deploy: false; refusal: Extract<PreviewRefusal, { reason: 'no-manifest' }> };
    desired: DesiredAction;
    commentsEnabled: boolean;
    ttlHours: number | null;
  } | null;
}

export const DEFAULT_PREVIEWS: PreviewSettings = { enabled: true, ttlHours: 72, forkPolicy: 'approval', maxConcurrent: 10, drafts: false };

const diagnosticKey = (d: Diagnostic) => `${d.file}:${d.line}:${d.column}:${d.code}:${d.message}`;

function decideCommit(facts: CommitFacts): CommitDecision {
  if (facts.kind === 'unreadable' || facts.kind === 'refused') return facts;
  // The version's diagnostics repeat its apps'; the manifest's own are the rest.
  const appKeys = new Set(facts.apps.flatMap((a) => a.diagnostics.map(diagnosticKey)));
  const manifestDiagnostics = facts.diagnostics.filter((d) => !appKeys.has(diagnosticKey(d)));
  if (!facts.manifest && manifestDiagnostics.every((d) => d.code === CODES.NoManifest)) return { kind: 'no-manifest', sha: facts.sha, versionId: facts.versionId };
  const apps = facts.apps.map((a): AppFinding => {
    const before = facts.production.get(a.app);
    return {
      app: a.app,
      valid: a.valid,
      diagnostics: a.diagnostics,
      changes: a.valid && a.files ? diffConfig(a.app, before?.files ?? null, a.files).changes : null,
      productionSha: before?.sha ?? null,
      rollback: a.rollback,
    };
  });
  return { kind: 'evaluated', sha: facts.sha, versionId: facts.versionId, manifest: facts.manifest, manifestDiagnostics, apps };
}

/**
 * Apps whose runtime (command or image), target or replica count the head sets differently from the base branch's
 * manifest (an app the base does not have: differently from the defaults). A fork may change an app's workflow files,
 * not what runs them or where: its preview runs what the base branch says.
 */
export function runtimeChanges(head: Manifest, base: Manifest | null): string[] {
  const shape = (a: Manifest['apps'][number] | undefined) => ({
    runtime: JSON.stringify({ command: a?.runtime?.command ?? null, image: a?.runtime?.image ?? null }),
    target: a?.target ?? DEFAULT_TARGET,
    replicas: a?.replicas ?? 1,
  });
  return head.apps
    .filter((app) => {
      const h = shape(app);
      const b = shape(base?.apps.find((x) => x.name === app.name));
      return h.runtime !== b.runtime || h.target !== b.target || h.replicas > b.replicas;
    })
    .map((app) => app.name);
}

export function decidePullRequest(facts: { commit: CommitFacts; checks: readonly CheckKey[]; pullRequest: PullRequestFacts | null }): PullRequestDecision {
  const commit = decideCommit(facts.commit);
  const pr = facts.pullRequest;
  if (!pr || commit.kind === 'unreadable' || commit.kind === 'refused') return { commit, checks: facts.checks, pullRequest: null };
  const base = { number: pr.number, headSha: pr.headSha, headRef: pr.headRef };
  // The base branch decides how its pull requests are previewed; the head only what is deployed.
  const settings = pr.baseManifest?.previews ?? DEFAULT_PREVIEWS;
  const commentsEnabled = pr.baseManifest?.comments?.enabled ?? true;
  if (commit.kind === 'no-manifest' || !commit.manifest) {
    return {
      commit,
      checks: facts.checks,
      pullRequest: { ...base, preview: { deploy: false, refusal: { reason: 'no-manifest' } }, desired: { kind: 'none' }, commentsEnabled, ttlHours: null },
    };
  }
  const preview = decidePreview({
    settings,
    fork: pr.fork,
    forkRuntimeChanges: pr.fork ? runtimeChanges(commit.manifest, pr.baseManifest) : [],
    draft: pr.draft,
    headSha: pr.headSha,
    approvedSha: pr.approvedSha,
    validApps: commit.apps.filter((a) => a.valid).map((a) => a.app),
    invalidApps: commit.apps.filter((a) => !a.valid).map((a) => a.app),
    activeInTenant: pr.activeInTenant,
    tenantLimit: pr.tenantLimit,
    ...(pr.plan !== undefined ? { plan: pr.plan } : {}),
    billingPaused: pr.billingPaused ?? false,
    activeInRepository: pr.activeInRepository,
    suspended: pr.suspended,
  });
  const wantsPreview = facts.checks.includes('preview');
  // A fork's branch is not one of this repository's: its preview follows no branch.
  const desired: DesiredAction = preview.deploy
    ? wantsPreview
      ? { kind: 'deploy', apps: preview.apps, stripSecrets: !preview.withSecrets, branch: pr.fork ? null : pr.headRef, actor: pr.actor }
      : { kind: 'none' }
    : preview.refusal.reason === 'invalid' && pr.livePreviews > 0 && !pr.fork
      ? { kind: 'record-invalid', branch: pr.headRef, actor: pr.actor }
      : { kind: 'none' };
  return {
    commit,
    checks: facts.checks,
    pullRequest: { ...base, preview, desired, commentsEnabled, ttlHours: settings.ttlHours },
  };
}
