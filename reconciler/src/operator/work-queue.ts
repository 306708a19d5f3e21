/**
 * The operator's work queue (client-go's workqueue, small): one entry per key however often it is added, never the
 * same key in two workers at once (a key added while it runs runs again after), delayed adds that keep the earliest
 * time, and a bounded number of workers.
 */
export interface WorkQueue {
  add(key: string, delayMs?: number): void;
  /** Resolves when nothing is queued, delayed within `horizonMs`, or running. */
  idle(horizonMs?: number): Promise<void>;
  readonly length: number;
  stop(): Promise<void>;
}

export function createWorkQueue(options: { concurrency: number; process: (key: string) => Promise<void>; onError: (key: string, err: unknown) => void }): WorkQueue {
  const ready: string[] = [];
  const queued = new Set<string>();
  const running = new Set<string>();
  const dirty = new Set<string>();
  const timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  const idleWaiters: { horizon: number; resolve: () => void }[] = [];
  let stopped = false;
  let inFlight: Promise<void>[] = [];

  const checkIdle = () => {
    if (ready.length || running.size) return;
    const now = Date.now();
    for (const w of [...idleWaiters]) {
      if ([...timers.values()].some((t) => t.at - now <= w.horizon)) continue;
      idleWaiters.splice(idleWaiters.indexOf(w), 1);
      w.resolve();
    }
  };

  const pump = () => {
    while (!stopped && running.size < options.concurrency && ready.length) {
      const key = ready.shift()!;
      queued.delete(key);
      running.add(key);
      const p = options
        .process(key)
        .catch((err) => options.onError(key, err))
        .finally(() => {
          running.delete(key);
          inFlight = inFlight.filter((x) => x !== p);
          if (dirty.delete(key)) enqueue(key);
          pump();
          checkIdle();
        });
      inFlight.push(p);
    }
  };

  const enqueue = (key: string) => {
    if (stopped) return;
    const t = timers.get(key);
    if (t) {
      clearTimeout(t.timer);
      timers.delete(key);
    }
    if (running.has(key)) return void dirty.add(key);
    if (queued.has(key)) return;
    queued.add(key);
    ready.push(key);
    pump();
  };

  return {
    add(key, delayMs = 0) {
      if (stopped) return;
      if (delayMs <= 0) return enqueue(key);
      if (queued.has(key)) return;
      const at = Date.now() + delayMs;
      const existing = timers.get(key);
      if (existing && existing.at <= at) return;
      if (existing) clearTimeout(existing.timer);
      const timer = setTimeout(() => {
        timers.delete(key);
        enqueue(key);
      }, delayMs);
      timer.unref();
      timers.set(key, { at, timer });
    },
    idle(horizonMs = 0) {
      return new Promise<void>((resolve) => {
        idleWaiters.push({ horizon: horizonMs, resolve });
        checkIdle();
      });
    },
    get length() {
      return ready.length + running.size;
    },
    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t.timer);
      timers.clear();
      await Promise.allSettled(inFlight);
    },
  };
}
