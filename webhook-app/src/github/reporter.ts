/**
 * Queues what GitHub must hear, as outbox rows: written in the caller's transaction, posted by the drain with
 * retries, in order per stream, deduplicated, the most urgent first (outbox/priority.ts).
 */
import { createHash } from 'node:crypto';
import { OUTBOX_KINDS } from '@wharf/contracts';
import { type CommonQueryMethods, type deployments, outbox } from '@wharf/store';
import { checkPriority, PRIORITIES } from './outbox/priority.js';
import type { CheckName } from './types.js';

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: 'notice' | 'warning' | 'failure';
  message: string;
  title?: string;
}

export interface CheckRunOutput {
  status: 'queued' | 'in_progress' | 'completed';
  conclusion?: 'success' | 'failure' | 'neutral' | 'cancelled' | 'skipped' | 'action_required';
  title: string;
  summary: string;
  text?: string;
  annotations?: Annotation[];
  actions?: { label: string; description: string; identifier: string }[];
  detailsUrl?: string;
}

export interface CheckRunTarget {
  tenantId: number;
  repositoryId: number;
  headSha: string;
  name: CheckName;
  /** 'auto' for the run Wharf starts by itself; a delivery id for a run a user asked for (Re-run). */
  runKey: string;
}

const digest = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 20);

export const checkStream = (t: Pick<CheckRunTarget, 'repositoryId' | 'headSha' | 'name' | 'runKey'>) =>
  `check:${t.repositoryId}:${t.headSha}:${t.name}:${t.runKey}`;

/** `sequence` distinguishes two identical outputs that must both be posted (e.g. success, redeploy, success). */
export async function queueCheckRun(db: CommonQueryMethods, target: CheckRunTarget, output: CheckRunOutput, sequence = ''): Promise<void> {
  await outbox.enqueue(db, {
    tenantId: target.tenantId,
    kind: OUTBOX_KINDS.checkRun,
    payload: { ...target, output },
    stream: checkStream(target),
    dedupeKey: `${checkStream(target)}:${digest(output)}${sequence ? `:${sequence}` : ''}`,
    priority: checkPriority(target.name, output),
  });
}

export async function queueCommentRefresh(db: CommonQueryMethods, t: { tenantId: number; repositoryId: number; prNumber: number }): Promise<void> {
  await outbox.enqueue(db, {
    tenantId: t.tenantId,
    kind: OUTBOX_KINDS.comment,
    payload: { repositoryId: t.repositoryId, prNumber: t.prNumber },
    stream: `comment:${t.repositoryId}:${t.prNumber}`,
    coalesce: true,
    priority: PRIORITIES.details,
  });
}

export async function queueReply(
  db: CommonQueryMethods,
  t: { tenantId: number; repositoryId: number; issueNumber: number; body: string; dedupeKey: string },
): Promise<void> {
  await outbox.enqueue(db, {
    tenantId: t.tenantId,
    kind: OUTBOX_KINDS.reply,
    payload: { repositoryId: t.repositoryId, issueNumber: t.issueNumber, body: t.body },
    stream: `reply:${t.repositoryId}:${t.issueNumber}`,
    dedupeKey: t.dedupeKey,
    priority: PRIORITIES.reply,
  });
}

export async function queueDeploymentInactive(
  db: CommonQueryMethods,
  t: { tenantId: number; deployment: deployments.DeploymentRecord; description: string },
): Promise<void> {
  await outbox.enqueue(db, {
    tenantId: t.tenantId,
    environmentId: t.deployment.environment_id,
    kind: OUTBOX_KINDS.deploymentInactive,
    payload: { deploymentRecordId: t.deployment.id, description: t.description },
    stream: `deployment:${t.deployment.repository_id}:${t.deployment.github_environment}`,
    dedupeKey: `inactive:${t.deployment.id}`,
    priority: PRIORITIES.housekeeping,
  });
}

export async function queueRollbackPullRequest(
  db: CommonQueryMethods,
  t: { tenantId: number; repositoryId: number; sha: string; issueNumber: number; requestedBy: string; baseBranch: string; dedupeKey: string },
): Promise<void> {
  await outbox.enqueue(db, {
    tenantId: t.tenantId,
    kind: OUTBOX_KINDS.rollbackPullRequest,
    payload: { repositoryId: t.repositoryId, sha: t.sha, issueNumber: t.issueNumber, requestedBy: t.requestedBy, baseBranch: t.baseBranch },
    stream: `rollback:${t.repositoryId}`,
    dedupeKey: t.dedupeKey,
    priority: PRIORITIES.reply,
  });
}
