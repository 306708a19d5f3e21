/**
 * Condition types and reasons shared by the reconciler, the targets, the store, the CLI and the GitHub reporter.
 * Reasons are a closed list: a reason that is not here does not type-check. docs/condition.md says when each is set.
 */
export const CONDITION_TYPES = ['Ready', 'Progressing', 'Degraded', 'Stalled'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;
export type ConditionStatus = (typeof CONDITION_STATUSES)[number];

export const REASONS = {
  // Rollouts
  Progressing: 'Progressing',
  RolloutSucceeded: 'RolloutSucceeded',
  Recovered: 'Recovered',
  TearingDown: 'TearingDown',
  Superseded: 'Superseded',
  NoVersion: 'NoVersion',
  Suspended: 'Suspended',
  // Failures that back off
  RuntimeUnhealthy: 'RuntimeUnhealthy',
  ApplyFailed: 'ApplyFailed',
  ApplyTimeout: 'ApplyTimeout',
  // Drift
  DriftCorrected: 'DriftCorrected',
  DriftDetected: 'DriftDetected',
  // Waiting: not done and not failed (a target still rolling out, an API briefly away, an agent not reporting)
  Waiting: 'Waiting',
  ApiUnavailable: 'ApiUnavailable',
  AgentOffline: 'AgentOffline',
  // Stalled: needs a change by the user before Wharf tries again
  InvalidVersion: 'InvalidVersion',
  QuotaExceeded: 'QuotaExceeded',
  SecretMissing: 'SecretMissing',
  UnknownTarget: 'UnknownTarget',
  Forbidden: 'Forbidden',
  // What a pull agent reports when it cannot apply an environment (AGENT_FAILURES in domain/agent.ts says which
  // stall the environment and which degrade it while the agent retries with backoff).
  ProxmoxUnreachable: 'ProxmoxUnreachable',
  ProxmoxAuthFailed: 'ProxmoxAuthFailed',
  ProxmoxCertificateMismatch: 'ProxmoxCertificateMismatch',
  PermissionDenied: 'PermissionDenied',
  InvalidRequest: 'InvalidRequest',
  VmidTaken: 'VmidTaken',
  TemplateNotFound: 'TemplateNotFound',
  GuestNotFound: 'GuestNotFound',
  StorageFull: 'StorageFull',
  NoNodeAvailable: 'NoNodeAvailable',
  TaskFailed: 'TaskFailed',
  GuestNoAddress: 'GuestNoAddress',
  HostKeyChanged: 'HostKeyChanged',
  SshFailed: 'SshFailed',
  DeployFailed: 'DeployFailed',
  NotOwned: 'NotOwned',
  UnsupportedRuntime: 'UnsupportedRuntime',
  /** The target's API refused the desired state as invalid (a Kubernetes 422): the message is the server's. */
  InvalidSpec: 'InvalidSpec',
  /** The environment's tenant is suspended or uninstalled: its runtimes are stopped (data kept) until it is resumed. */
  TenantSuspended: 'TenantSuspended',
  /** A preview of an organization whose payment is past due beyond the grace period: stopped (data kept) until paid. */
  BillingPastDue: 'BillingPastDue',
  // A condition read from elsewhere (a custom resource's status) with a reason Wharf does not know.
  Unknown: 'Unknown',
} as const;
export type Reason = (typeof REASONS)[keyof typeof REASONS];

const REASON_SET: ReadonlySet<string> = new Set(Object.values(REASONS));
export const isReason = (value: unknown): value is Reason => typeof value === 'string' && REASON_SET.has(value);

export interface Condition {
  type: ConditionType;
  status: ConditionStatus;
  reason: Reason;
  message: string;
  /** RFC 3339 time of the last change of `status`. */
  lastTransitionTime: string;
}

/**
 * Sets one condition in a list, keeping lastTransitionTime when the status did not change
 * (as Kubernetes' meta.SetStatusCondition does). Returns a new list.
 */
export function setCondition(
  conditions: readonly Condition[],
  next: Omit<Condition, 'lastTransitionTime'>,
  now: Date,
): Condition[] {
  const previous = conditions.find((c) => c.type === next.type);
  const lastTransitionTime =
    previous && previous.status === next.status ? previous.lastTransitionTime : now.toISOString();
  const updated: Condition = { ...next, lastTransitionTime };
  return [...conditions.filter((c) => c.type !== next.type), updated].sort(
    (a, b) => CONDITION_TYPES.indexOf(a.type) - CONDITION_TYPES.indexOf(b.type),
  );
}

export const findCondition = (conditions: readonly Condition[], type: ConditionType): Condition | undefined =>
  conditions.find((c) => c.type === type);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * Conditions as stored (jsonb) or read from a custom resource's status: entries that are not conditions are dropped,
 * a reason Wharf does not know becomes `Unknown` (its message is kept).
 */
export function parseConditions(raw: unknown): Condition[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((c): Condition[] => {
    if (!isRecord(c)) return [];
    const type = CONDITION_TYPES.find((t) => t === c.type);
    const status = CONDITION_STATUSES.find((s) => s === c.status);
    if (!type || !status || typeof c.lastTransitionTime !== 'string') return [];
    return [
      {
        type,
        status,
        reason: isReason(c.reason) ? c.reason : REASONS.Unknown,
        message: typeof c.message === 'string' ? c.message : '',
        lastTransitionTime: c.lastTransitionTime,
      },
    ];
  });
}
