/** What one reconcile of one environment came to; summarize-status.ts turns it into status, history and outbox. */
import type { PlanAction, PlanReason, Reason } from '@wharf/contracts';

export type ReconcileResult =
  /** Nothing to do: runtime matches desired (or nothing to deploy). */
  | { kind: 'noop'; reason: PlanReason; message: string; url: string | null }
  | { kind: 'no-version'; message: string }
  | { kind: 'succeeded'; action: PlanAction; url: string | null; message?: string }
  /** drift_mode warn: drift seen and reported, not corrected. */
  | { kind: 'drift-detected'; action: PlanAction; url: string | null }
  | { kind: 'deleted' }
  | { kind: 'waiting'; reason: Reason; message: string; retryAfterMs: number; url?: string | null }
  /** The target cannot tell what runs (an agent offline): Ready=Unknown, not a failure. */
  | { kind: 'unknown'; reason: Reason; message: string; retryAfterMs: number }
  | { kind: 'stalled'; reason: Reason; message: string }
  | { kind: 'failed'; reason: Reason; message: string };

export type ResultKind = ReconcileResult['kind'];

/** Label values of wharf_reconcile_total{result}. */
export const RESULT_LABELS = {
  noop: 'noop',
  'no-version': 'noop',
  succeeded: 'success',
  'drift-detected': 'drift_detected',
  deleted: 'deleted',
  waiting: 'waiting',
  unknown: 'unknown',
  stalled: 'stalled',
  failed: 'failure',
} as const satisfies Record<ResultKind, string>;
