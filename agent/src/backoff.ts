/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): the n-th retry
 * waits a random time in [0, min(cap, base·2^n)). Pure: the random source is passed in, so tests are exact.
 */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  /** Returns a number in [0, 1). */
  random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

/** Per-key attempt counter: `next(key)` gives the delay before the key's next try, `reset(key)` after a success. */
export function createBackoff(options: BackoffOptions) {
  const attempts = new Map<string, number>();
  return {
    next(key: string): number {
      const n = attempts.get(key) ?? 0;
      attempts.set(key, n + 1);
      return backoffDelay(n, options);
    },
    attempts: (key: string) => attempts.get(key) ?? 0,
    reset(key: string): void {
      attempts.delete(key);
    },
  };
}

/** Resolves after `ms`, or rejects early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
