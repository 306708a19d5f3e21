/**
 * Drains the meter-event outbox into `stripe.billing.meterEvents.create`. Every attempt of a row sends the same
 * identifier (and the same idempotency key), so a retry after a lost answer or a crash before the row was marked is
 * counted once by Stripe: it replays its first answer, or refuses with "An event already exists with identifier",
 * which counts as sent. A row first tried more than a day ago (Stripe forgets identifiers after 24 hours) is checked
 * against Stripe's total for its hour before it goes again. Stripe down, 429 and 5xx: the row waits and goes again later; other refusals are kept as
 * failed and reported. Events of one customer and meter go one at a time (Stripe allows one concurrent call per
 * customer per meter).
 */
import { backoffDelay, METER_EVENT_MAX_AGE_SECONDS } from '@wharf/contracts';
import { metering } from '@wharf/store';
import Stripe from 'stripe';
import type { MeteringDeps } from './deps.js';
import { activeMeters, type MeterConfig } from './stripe-meters.js';

export interface SendResult {
  sent: number;
  alreadySent: number;
  retried: number;
  failed: number;
}

type Outcome = { kind: 'sent' } | { kind: 'alreadySent' } | { kind: 'retry'; error: string; stop: boolean } | { kind: 'failed'; error: string };

/** Stripe's refusal of a second event with one identifier (`An event already exists with identifier …`). */
const isDuplicateIdentifier = (err: InstanceType<typeof Stripe.errors.StripeError>) =>
  err.statusCode === 400 && /already exists/i.test(err.message) && (err.param === 'identifier' || /identifier/i.test(err.message));

/** What a Stripe error means for the row: counted already, worth another try later, or refused for good. */
export function classifyStripeError(err: unknown): Outcome {
  if (!(err instanceof Stripe.errors.StripeError)) return { kind: 'retry', error: String(err), stop: true };
  const status = err.statusCode;
  const error = `${err.type}${status ? ` ${status}` : ''}: ${err.message}`;
  if (isDuplicateIdentifier(err)) return { kind: 'alreadySent' };
  if (status === undefined || err instanceof Stripe.errors.StripeConnectionError) return { kind: 'retry', error, stop: true };
  if (status === 401 || status === 403 || status === 429) return { kind: 'retry', error, stop: true };
  if (status === 409 || status >= 500) return { kind: 'retry', error, stop: false };
  return { kind: 'failed', error };
}

/** Stripe remembers identifiers (and idempotency keys) for 24 hours; a row first tried before this is checked first. */
const IDENTIFIER_MEMORY_MS = 23 * 3_600_000;

/**
 * For a row first tried more than a day ago, whose identifier Stripe may have forgotten: does Stripe's total of the
 * hour already include it? Yes: it is sent. No: send it. Anything else: a person decides.
 */
async function alreadyAtStripe(deps: MeteringDeps, stripe: Stripe, meter: MeterConfig, row: metering.MeterEventRow): Promise<Outcome | null> {
  const start = Math.floor(new Date(row.hour).getTime() / 1000);
  let atStripe = 0;
  for await (const s of stripe.billing.meters.listEventSummaries(meter.id, { customer: row.customer_id, start_time: start, end_time: start + 3600 })) {
    atStripe += s.aggregated_value;
  }
  const others = await metering.sentForHourExcept(deps.pool, row);
  if (atStripe === others + row.value) return { kind: 'alreadySent' };
  if (atStripe === others) return null;
  return { kind: 'failed', error: `unsure: Stripe holds ${atStripe} for the hour, Wharf sent ${others} besides this row (${row.value})` };
}

async function sendOne(deps: MeteringDeps, stripe: Stripe, meter: MeterConfig, row: metering.MeterEventRow): Promise<Outcome> {
  const timestamp = Math.floor(new Date(row.hour).getTime() / 1000);
  if (timestamp < deps.now().getTime() / 1000 - METER_EVENT_MAX_AGE_SECONDS) {
    return { kind: 'failed', error: 'too old: Stripe takes meter events of the past 35 days only' };
  }
  try {
    if (row.first_attempt_at && deps.now().getTime() - new Date(row.first_attempt_at).getTime() > IDENTIFIER_MEMORY_MS) {
      const known = await alreadyAtStripe(deps, stripe, meter, row);
      if (known) return known;
    }
    await stripe.billing.meterEvents.create(
      {
        event_name: row.event_name,
        identifier: row.identifier,
        timestamp,
        payload: { [meter.customerKey]: row.customer_id, [meter.valueKey]: String(row.value) },
      },
      { idempotencyKey: `wharf-meter-event-${row.identifier}` },
    );
    return { kind: 'sent' };
  } catch (err) {
    return classifyStripeError(err);
  }
}

/** Sends every due row (in batches of `batchSize`, `concurrency` customers and meters at once). */
export async function sendMeterEvents(deps: MeteringDeps, options: { batchSize?: number; concurrency?: number; leaseSeconds?: number } = {}): Promise<SendResult> {
  const result: SendResult = { sent: 0, alreadySent: 0, retried: 0, failed: 0 };
  const stripe = deps.stripe;
  if (!stripe) return result;
  const batchSize = options.batchSize ?? 200;
  const concurrency = options.concurrency ?? 8;
  let meters: Map<string, MeterConfig> | null = null;
  let stopped = false;
  const retry = async (row: metering.MeterEventRow, error: string) => {
    result.retried++;
    deps.metrics.meterEvents.inc({ outcome: 'retried' });
    await metering.retryMeterEvent(deps.pool, row.id, backoffDelay(row.attempts, deps.random, deps.retry) / 1000, error);
  };
  // Each row is tried at most once per run: a row that failed goes again in a later run.
  const tried: number[] = [];
  while (!stopped) {
    const rows = await metering.claimMeterEvents(deps.pool, { limit: batchSize, leaseSeconds: 300, exclude: tried });
    if (rows.length === 0) break;
    tried.push(...rows.map((r) => r.id));
    if (!meters) {
      try {
        meters = await activeMeters(stripe);
      } catch (err) {
        const outcome = classifyStripeError(err);
        const error = outcome.kind === 'retry' || outcome.kind === 'failed' ? outcome.error : String(err);
        deps.log.warn({ error }, 'stripe unavailable; meter events stay queued');
        for (const row of rows) await retry(row, error);
        break;
      }
    }
    const groups = new Map<string, metering.MeterEventRow[]>();
    for (const row of rows) {
      const key = `${row.customer_id}\0${row.event_name}`;
      groups.set(key, [...(groups.get(key) ?? []), row]);
    }
    const queue = [...groups.values()];
    const done: number[] = [];
    const worker = async () => {
      for (let group = queue.shift(); group; group = queue.shift()) {
        for (const row of group) {
          const meter = meters?.get(row.event_name);
          if (stopped) {
            await metering.retryMeterEvent(deps.pool, row.id, 0, 'not tried: the run stopped');
            continue;
          }
          if (!meter) {
            await retry(row, `no active Stripe meter has event_name ${row.event_name} (billing's catalog sync creates it)`);
            continue;
          }
          const outcome = await sendOne(deps, stripe, meter, row);
          if (outcome.kind === 'sent' || outcome.kind === 'alreadySent') {
            result[outcome.kind]++;
            deps.metrics.meterEvents.inc({ outcome: outcome.kind === 'sent' ? 'sent' : 'already_sent' });
            done.push(row.id);
            if (outcome.kind === 'alreadySent') deps.log.info({ identifier: row.identifier }, 'meter event was already at stripe');
          } else if (outcome.kind === 'retry') {
            if (outcome.stop && !stopped) deps.log.warn({ identifier: row.identifier, error: outcome.error }, 'stripe unavailable; meter events stay queued');
            stopped ||= outcome.stop;
            await retry(row, outcome.error);
          } else {
            result.failed++;
            deps.metrics.meterEvents.inc({ outcome: 'failed' });
            deps.log.error({ identifier: row.identifier, tenantId: row.tenant_id, error: outcome.error }, 'stripe refused a meter event');
            await metering.failMeterEvent(deps.pool, row.id, outcome.error);
          }
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    } finally {
      await metering.markMeterEventsSent(deps.pool, done);
    }
  }
  return result;
}
