/**
 * Processes stored Stripe events, one per transaction: claim the oldest due one (other replicas skip it), do what
 * it says, mark it processed in the same transaction. A failure (Stripe unreachable during a re-fetch, a database
 * error) leaves it unprocessed and tries again later with a growing delay; nothing is lost and nothing runs twice.
 * Woken when the webhook route stores an event, and on a timer as a safety net.
 */
import { backoffDelay } from '@wharf/contracts';
import { billing, type DatabasePool } from '@wharf/store';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import { processStripeEvent } from './process-event.js';

export interface EventWorkerOptions {
  pool: DatabasePool;
  stripe: Stripe;
  log: Logger;
  now?: () => Date;
  /** Safety-net poll (default 5 s). */
  pollMs?: number;
}

export interface EventWorker {
  /** Wakes the worker (an event was stored). */
  kick(): void;
  /** Processes every due event now; resolves when none is left (tests, the CLI). */
  drain(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

export function createEventWorker(options: EventWorkerOptions): EventWorker {
  const { pool, stripe, log } = options;
  const now = options.now ?? (() => new Date());
  let running: Promise<number> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const one = async (): Promise<boolean> =>
    pool.transaction(async (tx) => {
      const row = await billing.claimNextStripeEvent(tx);
      if (!row) return false;
      try {
        const result = await tx.transaction(async (inner) => processStripeEvent(inner, row.payload as Stripe.Event, { stripe, log, now }));
        await billing.finishStripeEvent(tx, row.id, result);
      } catch (err) {
        const delay = backoffDelay(row.attempts + 1, Math.random);
        log.warn({ err, stripeEvent: row.id, type: row.type, attempts: row.attempts + 1, retryInMs: delay }, 'stripe event failed');
        await billing.retryStripeEvent(tx, row.id, err instanceof Error ? err.message : String(err), delay);
      }
      return true;
    });

  const loop = async (): Promise<number> => {
    let done = 0;
    do {
      again = false;
      while (!stopped && (await one())) done++;
    } while (again && !stopped);
    return done;
  };

  const drain = (): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    running = loop().finally(() => {
      running = null;
    });
    return running;
  };

  return {
    kick: () => void drain().catch((err: unknown) => log.error({ err }, 'stripe event worker failed')),
    drain,
    start() {
      timer = setInterval(() => void drain().catch((err: unknown) => log.error({ err }, 'stripe event worker failed')), options.pollMs ?? 5_000);
      timer.unref();
      void drain().catch((err: unknown) => log.error({ err }, 'stripe event worker failed'));
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
