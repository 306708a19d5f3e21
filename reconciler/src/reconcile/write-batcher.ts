/**
 * Coalesces writes from many concurrent reconciles into one transaction per batch (flushed when `maxBatch` items
 * wait or after `maxDelayMs`). A batch that fails (connection lost) is retried with backoff until it succeeds or
 * the batcher is closed: the writes are fenced by the lease, so a retry after a commit whose reply was lost writes
 * nothing twice.
 */
import type { Logger } from 'pino';

export interface WriteBatcher<I, R> {
  write(item: I): Promise<R>;
  /** Resolves when everything queued so far is written. */
  flush(): Promise<void>;
  close(): void;
}

export function createWriteBatcher<I, R>(options: {
  name: string;
  log: Logger;
  maxBatch: number;
  maxDelayMs: number;
  maxConcurrentFlushes: number;
  flush(items: I[]): Promise<R[]>;
}): WriteBatcher<I, R> {
  type Pending = { item: I; resolve(r: R): void; reject(e: unknown): void };
  const queue: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  let active = 0;
  let closed = false;
  const idle: (() => void)[] = [];

  const settleIdle = () => {
    if (queue.length === 0 && active === 0) for (const f of idle.splice(0)) f();
  };

  const run = async (batch: Pending[]) => {
    active++;
    let delay = 250;
    try {
      for (;;) {
        try {
          const results = await options.flush(batch.map((p) => p.item));
          for (const [i, p] of batch.entries()) p.resolve(results[i] as R);
          return;
        } catch (err) {
          if (closed) {
            for (const p of batch) p.reject(err);
            return;
          }
          options.log.warn({ err, batch: batch.length, writer: options.name, retryInMs: delay }, 'status write failed; retrying');
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 5_000);
        }
      }
    } finally {
      active--;
      pump();
      settleIdle();
    }
  };

  const pump = () => {
    while (queue.length > 0 && active < options.maxConcurrentFlushes) {
      const batch = queue.splice(0, options.maxBatch);
      void run(batch);
    }
  };

  const schedule = () => {
    if (queue.length >= options.maxBatch) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      pump();
      return;
    }
    if (!timer) {
      timer = setTimeout(() => {
        timer = undefined;
        pump();
      }, options.maxDelayMs);
    }
  };

  return {
    write: (item) =>
      new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      }),
    flush: () =>
      new Promise<void>((resolve) => {
        if (timer) {
          clearTimeout(timer);
          timer = undefined;
        }
        pump();
        idle.push(resolve);
        settleIdle();
      }),
    close: () => {
      closed = true;
    },
  };
}
