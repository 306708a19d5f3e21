/**
 * Processes stored deliveries: claims due ones from Postgres (SKIP LOCKED, one at a time per repository), runs the
 * handler for the event, and records the outcome. A failing handler is retried with backoff, then marked failed (a
 * redelivery of it from GitHub queues it again). One delivery's failure, however it fails, never stops the others of
 * its batch. Any number of processes may run workers on the same database.
 */
import { deliveries } from '@wharf/store';
import type { Counter } from 'prom-client';
import { backoffDelay, type BackoffPolicy } from '@wharf/contracts';
import type { AppDeps, Handler } from './types.js';
import { createPollingLoop, type PollingLoop } from './polling-loop.js';

export interface DeliveryWorkerOptions {
  deps: AppDeps;
  handlers: Record<string, Handler>;
  concurrency: number;
  /** Polling interval when no wake-up arrives (other processes' deliveries, retries coming due). */
  pollMs?: number;
  maxAttempts?: number;
  backoff?: { baseSeconds: number; maxSeconds: number };
  leaseSeconds?: number;
  processed: Counter<'event' | 'result'>;
  /** The metric label of an event (a fixed set). */
  eventLabel?: (event: string) => string;
}

export type DeliveryWorker = PollingLoop;

export function createDeliveryWorker(o: DeliveryWorkerOptions): DeliveryWorker {
  const { deps } = o;
  const maxAttempts = o.maxAttempts ?? 8;
  const { baseSeconds, maxSeconds } = o.backoff ?? { baseSeconds: 5, maxSeconds: 600 };
  const policy: BackoffPolicy = { baseMs: baseSeconds * 1_000, maxMs: maxSeconds * 1_000, jitter: 'equal' };

  const label = o.eventLabel ?? ((event: string) => event);
  const processOne = async (d: deliveries.ClaimedDelivery) => {
    const log = deps.log.child({ deliveryId: d.delivery_id, event: d.event, action: d.action });
    const handler = o.handlers[d.event];
    if (!handler) {
      await deliveries.finishDelivery(deps.pool, d.delivery_id, { status: 'ignored' });
      o.processed.inc({ event: label(d.event), result: 'ignored' });
      return;
    }
    try {
      const result = await handler({ deliveryId: d.delivery_id, event: d.event, action: d.action, payload: d.payload, log, deps });
      await deliveries.finishDelivery(deps.pool, d.delivery_id, { status: result });
      o.processed.inc({ event: label(d.event), result });
    } catch (err) {
      const message = String((err as Error)?.message ?? err);
      if (d.attempts >= maxAttempts) {
        log.error({ err, attempts: d.attempts }, 'delivery failed; giving up');
        await deliveries.finishDelivery(deps.pool, d.delivery_id, { status: 'failed', error: message });
        o.processed.inc({ event: label(d.event), result: 'failed' });
      } else {
        const delay = backoffDelay(d.attempts, Math.random, policy) / 1_000;
        log.warn({ err, attempts: d.attempts, retryInSeconds: Math.round(delay) }, 'delivery failed; will retry');
        await deliveries.retryDelivery(deps.pool, d.delivery_id, delay, message);
        o.processed.inc({ event: label(d.event), result: 'retry' });
      }
    }
  };
  /** Even recording the outcome may fail (the database went away): the delivery's lease runs out and it is claimed again. */
  const processSafely = (d: deliveries.ClaimedDelivery) =>
    processOne(d).catch((err) => deps.log.error({ err, deliveryId: d.delivery_id, event: d.event }, 'delivery outcome not recorded; it will be claimed again'));

  /** One batch: events no handler wants are finished together; the others run `concurrency` at a time. */
  const step = async (): Promise<number> => {
    const claimed = await deliveries.claimDeliveries(deps.pool, { limit: o.concurrency * 8, leaseSeconds: o.leaseSeconds ?? 300 });
    const unhandled = claimed.filter((d) => !o.handlers[d.event]);
    if (unhandled.length > 0) await deliveries.finishDeliveries(deps.pool, unhandled.map((d) => d.delivery_id), 'ignored');
    for (const d of unhandled) o.processed.inc({ event: label(d.event), result: 'ignored' });
    const queue = claimed.filter((d) => o.handlers[d.event]);
    await Promise.all(
      Array.from({ length: Math.min(o.concurrency, queue.length) }, async () => {
        for (let d = queue.shift(); d; d = queue.shift()) await processSafely(d);
      }),
    );
    return claimed.length;
  };

  return createPollingLoop({ name: 'delivery worker', log: deps.log, pollMs: o.pollMs, step });
}
