/**
 * The error vocabulary that decides retries (Flux's): stalled waits for a new desired state, waiting requeues soon,
 * unknown (the target cannot tell what runs: an agent is offline) requeues without counting a failure, anything else
 * backs off exponentially.
 */
import { REASONS, type Reason } from '@wharf/contracts';

export const ERROR_KINDS = ['stalled', 'waiting', 'unknown', 'generic'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export abstract class ReconcileError extends Error {
  abstract readonly kind: ErrorKind;
  readonly reason: Reason;
  constructor(message: string, options: { reason: Reason; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.reason = options.reason;
  }
}

/** Needs a change by the user (invalid config, quota exceeded, unknown target): no retry until desired changes. */
export class StalledError extends ReconcileError {
  readonly kind = 'stalled' as const;
  override readonly name = 'StalledError';
}

/** Not done yet and not failed (runtime not healthy yet, deletion not confirmed): look again soon. */
export class WaitingError extends ReconcileError {
  readonly kind = 'waiting' as const;
  override readonly name = 'WaitingError';
  readonly retryAfterMs: number;
  constructor(message: string, options: { reason: Reason; cause?: unknown; retryAfterMs?: number }) {
    super(message, options);
    this.retryAfterMs = options.retryAfterMs ?? 2_000;
  }
}

/**
 * The target cannot tell what runs right now (an agent that stopped reporting): `Ready` becomes `Unknown` with the
 * reason, nothing is torn down or counted as failed, and the environment is looked at again after retryAfterMs.
 */
export class UnknownStateError extends ReconcileError {
  readonly kind = 'unknown' as const;
  override readonly name = 'UnknownStateError';
  readonly retryAfterMs: number;
  constructor(message: string, options: { reason: Reason; cause?: unknown; retryAfterMs?: number }) {
    super(message, options);
    this.retryAfterMs = options.retryAfterMs ?? 60_000;
  }
}

/** Anything else: back off. `reason` says which step failed. */
export class GenericError extends ReconcileError {
  readonly kind = 'generic' as const;
  override readonly name = 'GenericError';
}

export interface ClassifiedError {
  kind: ErrorKind;
  reason: Reason;
  message: string;
  retryAfterMs?: number;
}

export function classifyError(err: unknown, fallbackReason: Reason = REASONS.ApplyFailed): ClassifiedError {
  if (err instanceof WaitingError || err instanceof UnknownStateError) return { kind: err.kind, reason: err.reason, message: err.message, retryAfterMs: err.retryAfterMs };
  if (err instanceof ReconcileError) return { kind: err.kind, reason: err.reason, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { kind: 'generic', reason: fallbackReason, message };
}
