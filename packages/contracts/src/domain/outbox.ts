import type { EnvironmentKind } from './environment.js';

/**
 * Outbox row kinds: what the outside world must hear about, queued in the transaction that decided it. Written by
 * the reconciler (deployment statuses) and the GitHub App (checks, comments, replies), drained by the GitHub App.
 */
export const OUTBOX_KINDS = {
  /** A rollout's state for GitHub's deployment of the environment; written by the reconciler. */
  deploymentStatus: 'deployment_status',
  checkRun: 'github.check_run',
  comment: 'github.pr_comment',
  reply: 'github.reply',
  deploymentInactive: 'github.deployment_inactive',
  rollbackPullRequest: 'github.rollback_pr',
} as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[keyof typeof OUTBOX_KINDS];

/** States of a deployment as GitHub names them; the reconciler's `deployment_status` rows carry one. */
export const DEPLOYMENT_STATES = ['queued', 'pending', 'in_progress', 'success', 'failure', 'error', 'inactive'] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

/** The payload of a `deployment_status` row: written by the reconciler, read by the GitHub App's drain. */
export interface DeploymentStatusPayload {
  environmentId: number;
  repositoryId: number;
  app: string;
  environment: string;
  environmentKind: EnvironmentKind;
  prNumber: number | null;
  sha: string | null;
  digest: string | null;
  generation: number;
  state: DeploymentState;
  url: string | null;
  /** At most 140 characters (GitHub's limit). */
  description: string;
  /** The rollout's history row, set when the row is queued. */
  historyId?: number | null;
  /** The runtime's last lines, for a failure. */
  logTail?: string[];
}
