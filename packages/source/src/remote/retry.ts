import type { Logger } from 'pino';
import { RemoteTimeoutError } from './http-client.js';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 10_000 };

/** The remote could not be reached after every retry; nothing was changed. */
export class RemoteUnavailableError extends Error {
  override readonly name = 'RemoteUnavailableError';
  readonly reason = 'RemoteUnavailable' as const;
}

/** Network failures, timeouts, 5xx and 429 are worth retrying; 401, 403 and 404 are not. */
export function isTransient(err: unknown): boolean {
  if (err instanceof RemoteTimeoutError) return true;
  const e = err as { code?: string; data?: { statusCode?: number }; cause?: { code?: string }; name?: string; message?: string };
  if (e?.code === 'HttpError') {
    const status = e.data?.statusCode ?? 0;
    return status >= 500 || status === 429 || status === 408;
  }
  if (e?.name === 'TypeError' && /fetch failed/.test(e.message ?? '')) return true;
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT'].includes(
    e?.code ?? e?.cause?.code ?? '',
  );
}

/** Runs `fn`, retrying transient remote failures with exponential backoff and full jitter. */
export async function withRetry<T>(fn: () => Promise<T>, policy: RetryPolicy, log: Logger, what: Record<string, unknown>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err)) throw err;
      if (attempt >= policy.attempts) {
        throw new RemoteUnavailableError(`remote unavailable after ${attempt} attempts: ${(err as Error).message}`, { cause: err });
      }
      const delay = Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      log.warn({ ...what, err, attempt, delayMs: Math.round(delay) }, 'remote request failed; retrying');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** The remote failed (unreachable after retries, or answered with an HTTP error such as 401, 403 or 404). */
export const isRemoteError = (err: unknown): boolean =>
  err instanceof RemoteUnavailableError || (err as { code?: string })?.code === 'HttpError';
