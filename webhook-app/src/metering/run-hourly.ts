/**
 * The hourly run: aggregate the hours that closed since the last run (and a few before them, and any hour late usage
 * marked), queue what the customers' hours report, send the queue. Safe to run at any time and any number of times:
 * each step is idempotent.
 */
import { metering } from '@wharf/store';
import type { MeteringDeps } from './deps.js';
import { sendMeterEvents, type SendResult } from './send-meter-events.js';

const HOUR_MS = 3_600_000;
/** Closed hours recomputed on every run besides new and marked ones. */
const LOOKBACK_HOURS = 3;
/** Hours queued for sending at most this far back (Stripe takes 35 days; a new customer's first week). */
const ENQUEUE_WINDOW_HOURS = 7 * 24;
/** The most hours one run aggregates (a control plane that was down for long catches up over several runs). */
const MAX_HOURS_PER_RUN = 35 * 24;
const HOURS_PER_TRANSACTION = 24;

export interface HourlyResult {
  /** Hours before this were aggregated (exclusive). */
  through: string;
  hoursAggregated: number;
  rowsChanged: number;
  queued: number;
  send: SendResult | null;
}

/** The first hour that is not closed yet at `now`. */
export const closedThrough = (now: Date, settleMinutes: number): string => metering.hourOf(new Date(now.getTime() - settleMinutes * 60_000));

export async function aggregateClosedHours(deps: MeteringDeps): Promise<Pick<HourlyResult, 'through' | 'hoursAggregated' | 'rowsChanged'>> {
  const through = closedThrough(deps.now(), deps.settleMinutes);
  const throughMs = new Date(through).getTime();
  const last = await metering.aggregatedThrough(deps.pool);
  const fromMs = Math.max(Math.min(last ? new Date(last).getTime() : throughMs, throughMs) - LOOKBACK_HOURS * HOUR_MS, throughMs - MAX_HOURS_PER_RUN * HOUR_MS);
  const hours = new Set(metering.hoursBetween(new Date(fromMs).toISOString(), through));
  for (const h of await metering.dirtyHours(deps.pool, { before: through, limit: MAX_HOURS_PER_RUN })) hours.add(h);
  const list = [...hours].sort();
  let rowsChanged = 0;
  for (let i = 0; i < list.length; i += HOURS_PER_TRANSACTION) {
    const end = deps.metrics.aggregateSeconds.startTimer();
    rowsChanged += await metering.aggregateHours(deps.pool, list.slice(i, i + HOURS_PER_TRANSACTION));
    end();
  }
  await metering.setAggregatedThrough(deps.pool, through);
  return { through, hoursAggregated: list.length, rowsChanged };
}

export async function runHourly(deps: MeteringDeps): Promise<HourlyResult> {
  const aggregated = await aggregateClosedHours(deps);
  let queued = 0;
  let send: SendResult | null = null;
  if (deps.stripe) {
    const from = new Date(new Date(aggregated.through).getTime() - ENQUEUE_WINDOW_HOURS * HOUR_MS).toISOString();
    queued = await metering.enqueueMeterEvents(deps.pool, { customers: await deps.customers(), from, to: aggregated.through });
    send = await sendMeterEvents(deps);
  }
  const counts = await metering.countMeterEvents(deps.pool);
  deps.metrics.pending.set(counts.pending);
  deps.metrics.failed.set(counts.failed);
  deps.log.info({ ...aggregated, queued, send, pending: counts.pending, failed: counts.failed }, 'metering hour done');
  return { ...aggregated, queued, send };
}
