/**
 * Rollback through Git, so that Git stays the source of truth: a local repository gets a commit on the
 * environment's branch that restores the tree of the chosen version (the watcher records it as a rollback); a GitHub
 * repository gets a revert pull request, opened by the GitHub App's outbox drain. Both are audited.
 */
import { AUDIT_ACTIONS, type AuditEntry, OUTBOX_KINDS } from '@wharf/contracts';
import { commitRestore } from '@wharf/source';
import { audit, type DatabasePool, type environmentViews, outbox, repositories, type RestrictedScope, versions } from '@wharf/store';
import { notFound, ProblemError } from './http/problem-error.js';

export interface RollbackInput {
  repository: repositories.Repository;
  environment: environmentViews.EnvironmentSummary;
  version: versions.Version;
  /** The branch the environment follows. */
  branch: string;
  requestedBy: string;
  reason: string;
  audit: Omit<AuditEntry, 'action' | 'subject' | 'reason' | 'details'>;
  /** Makes a retried request queue nothing twice. */
  dedupeKey: string;
}

export interface RollbackResult {
  mode: 'commit' | 'pull-request';
  status: 'committed' | 'queued';
  commit: string | null;
}

export interface RollbackPort {
  rollback(input: RollbackInput): Promise<RollbackResult>;
}

const localPath = (url: string): string => (url.startsWith('file://') ? new URL(url).pathname : url);

export function createRollbackPort(deps: { pool: DatabasePool; wakeOutbox?: () => void }): RollbackPort {
  return {
    async rollback(input) {
      const short = input.version.sha.slice(0, 7);
      const entry = (details: Record<string, unknown>): AuditEntry => ({
        ...input.audit,
        action: AUDIT_ACTIONS.rollbackRequest,
        subject: `environment:${input.environment.id}`,
        reason: input.reason,
        details: { app: input.environment.app, environment: input.environment.name, toSha: input.version.sha, branch: input.branch, ...details },
      });
      if (input.repository.provider === 'local') {
        const outcome = await commitRestore({
          dir: localPath(input.repository.url),
          branch: input.branch,
          sha: input.version.sha,
          message: `Roll back to ${short}\n\nRestores the repository as it was at ${input.version.sha}.\nRequested by ${input.requestedBy}: ${input.reason}`,
          author: { name: 'Wharf', email: 'wharf@localhost' },
        });
        if (outcome.kind === 'dirty') throw new ProblemError('working-copy-dirty', `commit or stash your changes first (${outcome.files.join(', ')})`);
        if (outcome.kind === 'same') throw new ProblemError('already-at-version', `${input.branch} already holds the tree of ${short}`);
        if (outcome.kind === 'no-branch') throw new ProblemError('rollback-unavailable', `the branch ${input.branch} is gone from the working copy`);
        if (outcome.kind === 'no-commit') throw new ProblemError('rollback-unavailable', `${short} is not in the working copy`);
        await audit.recordAudit(deps.pool, [entry({ mode: 'commit', commit: outcome.commit, previous: outcome.previous })]);
        return { mode: 'commit', status: 'committed', commit: outcome.commit };
      }
      if (input.repository.provider === 'github') {
        await deps.pool.transaction(async (tx) => {
          await outbox.enqueue(tx, {
            tenantId: input.repository.tenant_id,
            kind: OUTBOX_KINDS.rollbackPullRequest,
            payload: { repositoryId: input.repository.id, sha: input.version.sha, issueNumber: null, requestedBy: input.requestedBy, baseBranch: input.branch },
            stream: `rollback:${input.repository.id}`,
            dedupeKey: input.dedupeKey,
          });
          await audit.recordAudit(tx, [entry({ mode: 'pull-request' })]);
        });
        deps.wakeOutbox?.();
        return { mode: 'pull-request', status: 'queued', commit: null };
      }
      throw new ProblemError('rollback-unavailable', `a ${input.repository.provider} repository is read-only to Wharf: revert the commit yourself`);
    },
  };
}

/**
 * What a rollback of `environment` to `asked` (a sha of at least 7 characters, or a version id) means: the version
 * (valid, of the same repository, with this app valid), the repository and the branch the environment follows.
 */
export async function resolveRollback(
  pool: DatabasePool,
  scope: RestrictedScope,
  environment: environmentViews.EnvironmentSummary,
  asked: string,
): Promise<{ repository: repositories.Repository; version: versions.Version; branch: string }> {
  const e = environment;
  const wanted = asked.trim().toLowerCase();
  const repoScope = { tenantId: scope.tenantId, repositoryId: e.repository_id };
  const found = /^[0-9a-f]{7,64}$/.test(wanted)
    ? await versions.findVersionBySha(pool, repoScope, wanted)
    : /^[1-9][0-9]{0,15}$/.test(wanted)
      ? await versions.getVersion(pool, scope, Number(wanted))
      : null;
  const version = found ? await versions.getVersion(pool, scope, found.id) : null;
  if (!version || version.repository_id !== e.repository_id) throw new ProblemError('not-found', `no version ${asked} of ${e.app} in this organization`);
  const app = (await versions.listVersionApps(pool, scope, version.id)).find((a) => a.app === e.app);
  if (!version.valid || !app?.valid) throw new ProblemError('version-invalid', `${version.sha.slice(0, 7)} is not a valid version of ${e.app}`);
  if (e.pr_number !== null) throw new ProblemError('rollback-unavailable', "a pull request's preview follows its head: push to the pull request instead");
  const repository = await repositories.getRepository(pool, repoScope);
  if (!repository) throw notFound('environment');
  const manifestBranch = (version.manifest as { productionBranch?: string } | null)?.productionBranch;
  const branch = e.branch ?? (e.kind === 'production' ? (manifestBranch ?? repository.default_branch) : null);
  if (!branch) throw new ProblemError('rollback-unavailable', `${e.app}/${e.name} follows no branch`);
  return { repository, version, branch };
}
