/** Exponential backoff with full jitter, in seconds. */
export function backoffSeconds(attempt: number, options: { baseSeconds: number; maxSeconds: number; random?: () => number }): number {
  const ceiling = Math.min(options.maxSeconds, options.baseSeconds * 2 ** Math.max(0, attempt - 1));
  const r = options.random ?? Math.random;
  return Math.max(options.baseSeconds / 2, ceiling / 2 + (r() * ceiling) / 2);
}
