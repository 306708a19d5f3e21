/** Condition types and reasons shared by the reconciler, the store, the CLI and the GitHub reporter. */
export const CONDITION_TYPES = ['Ready', 'Progressing', 'Degraded', 'Stalled'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;
export type ConditionStatus = (typeof CONDITION_STATUSES)[number];

export const REASONS = {
  InvalidVersion: 'InvalidVersion',
  QuotaExceeded: 'QuotaExceeded',
  Progressing: 'Progressing',
  RolloutSucceeded: 'RolloutSucceeded',
  Recovered: 'Recovered',
  RuntimeUnhealthy: 'RuntimeUnhealthy',
  ApplyFailed: 'ApplyFailed',
  ApplyTimeout: 'ApplyTimeout',
  DriftCorrected: 'DriftCorrected',
  DriftDetected: 'DriftDetected',
  Suspended: 'Suspended',
  TearingDown: 'TearingDown',
  NoVersion: 'NoVersion',
} as const;
export type Reason = (typeof REASONS)[keyof typeof REASONS];

export interface Condition {
  type: ConditionType;
  status: ConditionStatus;
  reason: string;
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
