/**
 * A rollout as history records it and people read it: its result, and the words for what it did
 * ("deploy 1cded6d (New greeting)", "rollback to 4eb6b0e (First version)").
 */
export const ROLLOUT_RESULTS = ['in_progress', 'succeeded', 'failed', 'superseded'] as const;
export type RolloutResult = (typeof ROLLOUT_RESULTS)[number];

const short = (sha: string): string => sha.slice(0, 7);

/** "rollback to 4eb6b0e (First version)": a version whose digest equals an earlier one's. */
export const rollbackText = (sha: string, subject: string | null): string => `rollback to ${short(sha)} (${subject ?? ''})`;

export interface RolloutWords {
  action: string;
  sha: string | null;
  subject: string | null;
  rollbackSha: string | null;
  rollbackSubject: string | null;
}

/** "rollback to 4eb6b0e (First version)", "deploy 1cded6d (New greeting)" or "tear down 1cded6d (…)". */
export function describeRollout(r: RolloutWords): string {
  if (r.rollbackSha) return rollbackText(r.rollbackSha, r.rollbackSubject);
  if (r.sha) return `${r.action === 'delete' ? 'tear down' : 'deploy'} ${short(r.sha)} (${r.subject ?? ''})`;
  return r.action;
}
