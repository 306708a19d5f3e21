/** @wharf/reconciler: the reconcile loop, its steps, and the target registry. */
export { createReconciler, type Reconciler, type ReconcilerOptions, type Clock } from './reconciler.js';
export { ReconcileError, StalledError, WaitingError, GenericError, classifyError, ERROR_KINDS, type ErrorKind, type ClassifiedError } from './errors.js';
export { backoffDelay, resyncDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
export { createReconcilerMetrics, type ReconcilerMetrics } from './metrics.js';
export {
  TARGET_FACTORIES,
  createTargetRegistry,
  type TargetRegistry,
  type TargetResolver,
  type TargetsConfig,
  type TargetFactories,
  type ResolvedTarget,
} from './targets/registry.js';
export { existingTarget, type TargetFactory, type TargetDeps } from './targets/target-factory.js';
export type { LocalTarget, LocalTargetSettings } from './targets/local/index.js';
export { summarizeOutcome, summarizeStart } from './reconcile/summarize-status.js';
export type { ReconcileResult } from './reconcile/result.js';
