import type { Logger } from 'pino';

/**
 * The loop under the delivery worker and the outbox drain: run `step` (claim and process one batch; returns how
 * many it took) until it finds nothing, again when woken meanwhile, and every `pollMs` as a safety net.
 */
export interface PollingLoop {
  start(): void;
  /** Something new is due: run now (if started). */
  wake(): void;
  /** Waits for the current run, then runs until idle: tests and benchmarks settle with it. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export function createPollingLoop(o: { name: string; log: Logger; pollMs?: number; step: () => Promise<number> }): PollingLoop {
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let loop: Promise<void> | undefined;
  let again = false;

  const runLoop = async () => {
    do {
      again = false;
      while ((await o.step()) > 0);
    } while (again && running);
  };
  const kick = () => {
    if (loop) {
      again = true;
      return loop;
    }
    loop = runLoop()
      .catch((err) => o.log.error({ err }, `${o.name} loop failed`))
      .finally(() => {
        loop = undefined;
      });
    return loop;
  };
  const schedule = () => {
    if (!running) return;
    timer = setTimeout(() => void kick().finally(schedule), o.pollMs ?? 1000);
  };
  return {
    start() {
      if (running) return;
      running = true;
      void kick();
      schedule();
    },
    wake() {
      if (running) void kick();
    },
    async drain() {
      while (loop) await loop;
      await kick();
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      while (loop) await loop;
    },
  };
}
