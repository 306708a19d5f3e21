import type { Condition } from '@wharf/contracts';

/** One word for an environment's state, from its conditions, in the order a user cares about. */
export function environmentState(conditions: readonly Partial<Condition>[], suspended = false): { state: string; message: string } {
  const find = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
  if (suspended) return { state: 'Suspended', message: '' };
  for (const type of ['Stalled', 'Degraded', 'Progressing'] as const) {
    const c = find(type);
    if (c) return { state: type, message: c.message ?? '' };
  }
  if (find('Ready')) return { state: 'Ready', message: '' };
  return { state: 'Pending', message: conditions.find((c) => c.type === 'Ready')?.message ?? '' };
}
