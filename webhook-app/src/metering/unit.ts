/**
 * The metering unit: an hourly job (aggregate, queue, send) and a daily one (reconcile yesterday with Stripe), on
 * cron schedules, each under an advisory lock so that one replica at a time runs it. Without STRIPE_SECRET_KEY usage
 * is aggregated and nothing is sent.
 */
import { StartupError } from '@wharf/contracts';
import { metering } from '@wharf/store';
import { CronJob, validateCronExpression } from 'cron';
import { createStripeClient } from '../billing/stripe-client.js';
import type { UnitFactory } from '../units.js';
import { type CustomerDirectory, DEFAULT_METER_EVENT_RETRY, type MeteringDeps } from './deps.js';
import { createMeteringMetrics } from './metrics.js';
import { reconcileMeterEvents } from './reconcile-meter-events.js';
import { runHourly } from './run-hourly.js';

const DAY_MS = 86_400_000;
/** Spans, events and sent outbox rows: past Stripe's 35 days, when an hour can no longer change or be sent. */
const KEEP_INPUTS_DAYS = 40;
/** Hourly usage, for the usage view: 13 months. */
const KEEP_USAGE_DAYS = 400;

export interface MeteringJobs {
  /** One hourly run now, if no other replica is running one. */
  runHourly(): Promise<boolean>;
  /** Reconciles the day before the current one, if no other replica is. */
  reconcileYesterday(): Promise<boolean>;
  stop(): Promise<void>;
}

/** Starts the two cron jobs over `deps`. */
export function startMeteringJobs(deps: MeteringDeps, schedule: { hourlyCron: string; reconcileCron: string }): MeteringJobs {
  const hourly = async () => (await metering.withMeteringLock(deps.pool, 'hourly', () => runHourly(deps))).ran;
  const reconcile = async () => {
    const now = deps.now().getTime();
    const yesterday = new Date(now - DAY_MS).toISOString();
    return (
      await metering.withMeteringLock(deps.pool, 'reconcile', async () => {
        await reconcileMeterEvents(deps, yesterday);
        const pruned = await metering.pruneMetering(deps.pool, {
          inputsBefore: new Date(now - KEEP_INPUTS_DAYS * DAY_MS).toISOString(),
          usageBefore: new Date(now - KEEP_USAGE_DAYS * DAY_MS).toISOString(),
        });
        deps.log.info({ pruned }, 'old metering rows pruned');
      })
    ).ran;
  };
  const job = (cronTime: string, name: string, onTick: () => Promise<unknown>) =>
    CronJob.from({
      cronTime,
      name,
      timeZone: 'UTC',
      waitForCompletion: true,
      start: true,
      onTick: async () => {
        await onTick();
      },
      errorHandler: (err) => deps.log.error({ err, job: name }, 'metering job failed'),
    });
  const jobs = [job(schedule.hourlyCron, 'metering-hourly', hourly), job(schedule.reconcileCron, 'metering-reconcile', reconcile)];
  return {
    runHourly: hourly,
    reconcileYesterday: reconcile,
    stop: async () => {
      await Promise.all(jobs.map((j) => j.stop()));
    },
  };
}

/**
 * The unit. `customers` says which organizations are Stripe customers: by default the store's
 * `metering.listStripeCustomers` (billing's customer ids; docs/metering.md).
 */
export function createMeteringUnit(options: { customers?: CustomerDirectory } = {}): UnitFactory {
  return async ({ pool, log, registry, settings }) => {
    const problems = (['WHARF_METERING_CRON', 'WHARF_METERING_RECONCILE_CRON'] as const).flatMap((name) => {
      const check = validateCronExpression(settings[name]);
      return check.valid ? [] : [`${name}: ${check.error?.message ?? 'not a cron expression'}`];
    });
    if (problems.length > 0) throw new StartupError(problems.join('\n'));
    const deps: MeteringDeps = {
      pool,
      log,
      stripe: settings.STRIPE_SECRET_KEY ? createStripeClient({ secretKey: settings.STRIPE_SECRET_KEY, apiUrl: settings.STRIPE_API_URL }) : null,
      customers: options.customers ?? (() => metering.listStripeCustomers(pool)),
      metrics: createMeteringMetrics(registry),
      now: () => new Date(),
      random: Math.random,
      retry: DEFAULT_METER_EVENT_RETRY,
      settleMinutes: settings.WHARF_METERING_SETTLE_MINUTES,
    };
    let jobs: MeteringJobs | null = null;
    return {
      name: 'metering',
      start: () => {
        jobs = startMeteringJobs(deps, { hourlyCron: settings.WHARF_METERING_CRON, reconcileCron: settings.WHARF_METERING_RECONCILE_CRON });
      },
      stop: async () => {
        await jobs?.stop();
      },
    };
  };
}

export const meteringUnit: UnitFactory = createMeteringUnit();
