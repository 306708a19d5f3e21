/**
 * The snapshot after a status update, as a store would record it: for whoever keeps environments somewhere other
 * than Postgres (an operator writing a custom resource's status, a test driving the steps in memory). Pure. The
 * Postgres store does the same in SQL (packages/store/src/rollouts.ts), fenced by the lease.
 */
import { type Condition, type EnvironmentSnapshot, REASONS, type StatusUpdate } from '@wharf/contracts';

const isInvalidVersion = (c: Condition) => c.type === 'Stalled' && c.reason === REASONS.InvalidVersion;

/** null: the environment is gone (the target confirmed its deletion). */
export function applyStatusUpdate(env: EnvironmentSnapshot, update: StatusUpdate): EnvironmentSnapshot | null {
  if (update.deleted) return null;
  // As the store merges: the source's InvalidVersion condition always survives a reconciler's write.
  const theirs = env.conditions.filter(isInvalidVersion);
  const conditions = update.conditions
    ? [...update.conditions.filter((c) => !isInvalidVersion(c) && !(theirs.length > 0 && c.type === 'Stalled')), ...theirs]
    : env.conditions;
  return {
    ...env,
    conditions,
    observed: {
      ...(update.observed ? { generation: update.observed.generation, digest: update.observed.digest, versionId: update.observed.versionId } : env.observed),
      url: update.url !== undefined ? update.url : env.observed.url,
    },
    failureCount: update.failureCount ?? env.failureCount,
  };
}
