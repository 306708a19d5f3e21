/**
 * Coalesces many concurrent single calls into batched ones: `load(key)` calls made within `delayMs` of each other
 * (or until `maxBatch` wait) are answered by one `run(keys)`, whose results come back in the same order. A failed run
 * fails every call in it (no retry: the callers decide). The agent target's reads and publishes and the agent API's
 * document loads and reports use it, so that 1,000 agents cost a few statements rather than a few thousand.
 */
export function createCoalescer<I, R>(options: { delayMs: number; maxBatch: number; run(items: I[]): Promise<R[]> }): (item: I) => Promise<R> {
  type Pending = { item: I; resolve(r: R): void; reject(e: unknown): void };
  let queue: Pending[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    while (queue.length > 0) {
      const batch = queue.slice(0, options.maxBatch);
      queue = queue.slice(options.maxBatch);
      options.run(batch.map((p) => p.item)).then(
        (results) => batch.forEach((p, i) => p.resolve(results[i] as R)),
        (err: unknown) => batch.forEach((p) => p.reject(err)),
      );
    }
  };

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (queue.length >= options.maxBatch) flush();
      else timer ??= setTimeout(flush, options.delayMs);
    });
}
