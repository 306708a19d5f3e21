/**
 * An environment as the reconcile steps see it, whatever stores it: a Postgres row (the store maps rows to and from
 * it) or a WorkflowApp custom resource (the in-cluster operator maps the resource). The steps read a snapshot and
 * return a status update; neither holds anything of the storage.
 */
import type { Condition, Reason } from '../conditions.js';
import type { PlanActionType, PlanReason } from '../plan/plan.js';
import type { WorkflowAppSpec } from '../workflow-app.js';
import type { DriftMode, EnvironmentKind } from './environment.js';
import type { DeploymentState, OutboxKind } from './outbox.js';
import type { RolloutResult } from './rollout.js';

export interface EnvironmentIdentity {
  id: number;
  tenantId: number;
  repositoryId: number;
  app: string;
  name: string;
  kind: EnvironmentKind;
  branch: string | null;
  prNumber: number | null;
  /** A target name: `local`, `kubernetes:eu-1`, `agent:edge`. */
  target: string;
}

export interface EnvironmentSnapshot {
  identity: EnvironmentIdentity;
  /** Bumped at every change of desired state (and by a deletion request). */
  generation: number;
  desired: {
    /** null while the environment has no valid version. */
    versionId: number | null;
    digest: string | null;
    spec: WorkflowAppSpec | null;
    /** The earlier version this one equals (a revert), when it is a rollback. */
    rollbackOfVersionId: number | null;
  };
  observed: {
    /** The generation last reconciled. */
    generation: number;
    /** The digest and version last rolled out. */
    digest: string | null;
    versionId: number | null;
    url: string | null;
  };
  conditions: Condition[];
  driftMode: DriftMode;
  deletionRequested: boolean;
  /** The tenant is suspended (tenants.suspended_at): its runtimes are stopped until it is resumed. Absent: false. */
  tenantSuspended?: boolean;
  /**
   * A preview the organization's billing holds (docs/billing.md): over its plan's preview limit (QuotaExceeded), or
   * past due beyond the grace period (BillingPastDue). Its runtime is stopped, its data kept. Never set on production.
   */
  billingHold?: { reason: 'QuotaExceeded' | 'BillingPastDue'; message: string } | null;
  /** Consecutive failures; sets the backoff. */
  failureCount: number;
}

/** Why a history row was written: a plan's reason, or a condition reason (DriftCorrected, ApplyFailed, …). */
export type HistoryReason = PlanReason | Reason;

/** A message for the outside world, queued with the status (one per rollout and state). */
export interface OutboxMessage {
  kind: OutboxKind;
  /** Part of the dedupe key: one message per (rollout, state). */
  state: DeploymentState;
  payload: Record<string, unknown>;
}

/** A rollout that starts: recorded while it runs when it takes a while (Progressing, a history row, a status). */
export interface RolloutStart {
  id: number;
  generation: number;
  versionId: number | null;
  digest: string | null;
  action: PlanActionType;
  reason: HistoryReason;
  message: string;
  rollbackOfVersionId: number | null;
  conditions: readonly Condition[];
  outbox: readonly OutboxMessage[];
  /** When the rollout began (defaults to the time of the write). */
  startedAt?: string;
}

/** What one reconcile of one environment changes; absent fields stay as they are. */
export interface StatusUpdate {
  id: number;
  /** The generation this reconcile worked on; if desired moved on meanwhile, the environment is due again at once. */
  generation: number;
  /** Next attempt after this many ms; null: not until desired state changes (stalled). */
  nextAttemptInMs: number | null;
  conditions?: readonly Condition[];
  observed?: { generation: number; digest: string | null; versionId: number | null };
  url?: string | null;
  failureCount?: number;
  /** Finish the rollout's history row with this result (`failed` keeps it open for the retry). */
  history?: { result: RolloutResult; reason: HistoryReason; message: string };
  outbox?: readonly OutboxMessage[];
  /** The target confirmed deletion: remove the environment. */
  deleted?: boolean;
  /** A rollout that finished before its start was recorded: record its start with the outcome. */
  start?: RolloutStart;
}
