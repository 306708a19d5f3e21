/**
 * What a failed Kubernetes request means for the reconcile, per the issue's list of bad input:
 * - 422 Invalid (the CRD's schema or a built-in kind refused the object): Stalled (InvalidSpec) with the server's message;
 * - 403 from RBAC: Stalled (Forbidden) naming the verb, the resource and the namespace; 403 over a ResourceQuota:
 *   Stalled (QuotaExceeded); 403 because the namespace is being deleted: Waiting (it is re-created once gone);
 * - unreachable, 429, 502–504: Waiting (ApiUnavailable): nothing is deleted or marked failed meanwhile;
 * - 409 Conflict: retried by the caller (optimistic concurrency, field manager conflicts);
 * - anything else: a generic failure that backs off.
 */
import { REASONS } from '@wharf/contracts';
import { GenericError, type ReconcileError, StalledError, WaitingError } from '../errors.js';
import { KubeApiError, KubeUnreachableError } from './kube-http.js';

export const isNotFound = (err: unknown): err is KubeApiError => err instanceof KubeApiError && err.code === 404;
export const isConflict = (err: unknown): err is KubeApiError => err instanceof KubeApiError && err.code === 409 && err.reason !== 'AlreadyExists';
export const isAlreadyExists = (err: unknown): err is KubeApiError => err instanceof KubeApiError && err.code === 409 && err.reason === 'AlreadyExists';
export const isGone = (err: unknown): err is KubeApiError => err instanceof KubeApiError && (err.code === 410 || err.reason === 'Expired' || err.reason === 'Gone');
export const isNamespaceTerminating = (err: unknown): boolean =>
  err instanceof KubeApiError &&
  err.code === 403 &&
  ((err.status.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating') || /because it is being terminated/.test(err.message));
export const isQuotaExceeded = (err: unknown): boolean => err instanceof KubeApiError && err.code === 403 && /exceeded quota/.test(err.message);
/** A refusal that waiting may clear: the server is away, overloaded, or asks to come back later. */
export const isTransient = (err: unknown): boolean =>
  err instanceof KubeUnreachableError || (err instanceof KubeApiError && [429, 500, 502, 503, 504].includes(err.code) && !/field not declared in schema/.test(err.message));

const where = (e: KubeApiError) => (e.what.namespace ? ` in namespace "${e.what.namespace}"` : ' at the cluster scope');

/** The reconcile error a Kubernetes failure stands for. */
export function toReconcileError(err: unknown): ReconcileError {
  if (err instanceof KubeUnreachableError) return new WaitingError(`${err.message}; retrying`, { reason: REASONS.ApiUnavailable, cause: err, retryAfterMs: 5_000 });
  if (!(err instanceof KubeApiError)) return new GenericError((err as Error).message ?? String(err), { reason: REASONS.ApplyFailed, cause: err });
  const message = err.message;
  if (isNamespaceTerminating(err)) {
    return new WaitingError(`namespace "${err.what.namespace}" is being deleted; it is created again once it is gone`, { reason: REASONS.Waiting, cause: err, retryAfterMs: 2_000 });
  }
  if (isQuotaExceeded(err)) return new StalledError(message, { reason: REASONS.QuotaExceeded, cause: err });
  if (err.code === 403) {
    return new StalledError(`forbidden: cannot ${err.what.verb} ${err.what.resource}${where(err)}: ${message}`, { reason: REASONS.Forbidden, cause: err });
  }
  if (err.code === 401) return new GenericError(`the Kubernetes API refused Wharf's credentials (401 Unauthorized): ${message}`, { reason: REASONS.ApplyFailed, cause: err });
  if (err.code === 422 || /field not declared in schema/.test(message)) return new StalledError(message, { reason: REASONS.InvalidSpec, cause: err });
  if (isTransient(err)) {
    const after = err.status.details?.retryAfterSeconds;
    return new WaitingError(`the Kubernetes API answered ${err.code} (${err.reason ?? 'error'}): ${message}; retrying`, { reason: REASONS.ApiUnavailable, cause: err, retryAfterMs: after ? after * 1000 : 5_000 });
  }
  return new GenericError(`${err.what.verb} ${err.what.resource}${err.what.name ? ` "${err.what.name}"` : ''} failed (${err.code}): ${message}`, { reason: REASONS.ApplyFailed, cause: err });
}

/**
 * Runs `fn` again after a 409 Conflict (someone wrote the object between our read and our write), up to `attempts`
 * times; `onConflict` may refresh what the next attempt writes.
 */
export async function retryOnConflict<T>(fn: (attempt: number) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isConflict(err) || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1_000) * (0.5 + Math.random() / 2)));
    }
  }
}
