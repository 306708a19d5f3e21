/**
 * The one word for an environment's state, from its conditions, in the order a user cares about. `wharf up`'s live
 * table, `wharf status` and the API all say it the same way: `Ready`, `Progressing`, `Stalled (InvalidVersion)`.
 */
import { type Condition, type Reason } from '../conditions.js';

export const ENVIRONMENT_STATES = ['Ready', 'Progressing', 'Degraded', 'Stalled', 'Suspended', 'Deleting', 'Pending'] as const;
export type EnvironmentStateWord = (typeof ENVIRONMENT_STATES)[number];

export interface EnvironmentState {
  state: EnvironmentStateWord;
  /** The reason of the condition that decided the state; null for Ready, Suspended and Deleting. */
  reason: Reason | null;
  /** Why, for people; empty when there is nothing to add. */
  message: string;
}

export function environmentState(input: {
  conditions: readonly Condition[];
  suspended?: boolean;
  deletionRequested?: boolean;
}): EnvironmentState {
  if (input.deletionRequested) return { state: 'Deleting', reason: null, message: '' };
  if (input.suspended) return { state: 'Suspended', reason: null, message: '' };
  const isTrue = (type: Condition['type']) => input.conditions.find((c) => c.type === type && c.status === 'True');
  for (const type of ['Stalled', 'Degraded', 'Progressing'] as const) {
    const c = isTrue(type);
    if (c) return { state: type, reason: c.reason, message: c.message };
  }
  if (isTrue('Ready')) return { state: 'Ready', reason: null, message: '' };
  const ready = input.conditions.find((c) => c.type === 'Ready');
  return { state: 'Pending', reason: ready?.reason ?? null, message: ready?.message ?? '' };
}

/** `Ready`, `Stalled (InvalidVersion)`, `Degraded (ApplyFailed)`; a reason that repeats the state is left out. */
export const formatState = (s: EnvironmentState): string =>
  s.reason && s.reason !== s.state ? `${s.state} (${s.reason})` : s.state;
