/**
 * Usage metering's vocabulary (docs/metering.md): how each of USAGE_METRICS is measured in Postgres and reported to its
 * Stripe meter. Pure: the store aggregates with these, the metering unit sends with them.
 */
import { USAGE_METRICS, USAGE_METRIC_NAMES, type UsageMetric } from './plans.js';

/**
 * Base units per reported unit: *Hours metrics are aggregated in seconds and reported in whole hours (Stripe takes whole
 * numbers only; the fraction carries into the next hour of the month); counts are reported as they are.
 */
export const METERING_BASE_UNITS = Object.fromEntries(
  USAGE_METRIC_NAMES.map((m) => [m, USAGE_METRICS[m].unit.endsWith('-hour') ? 3600 : 1]),
) as Record<UsageMetric, number>;

/** The Stripe meter event name of each metric. */
export const meterEventNameOf = (metric: UsageMetric): string => USAGE_METRICS[metric].meterEventName;

/** The usage metrics counted from recorded events (the others are time spans). */
export const COUNTED_USAGE_METRICS = ['deploys', 'runtimeRequests'] as const satisfies readonly UsageMetric[];

/** Meter events older than this are refused by Stripe (35 days); the outbox gives up on them a day before. */
export const METER_EVENT_MAX_AGE_SECONDS = 34 * 86_400;

/**
 * The idempotency identifier of a meter event: the same for every retry of (organization, metric, hour, revision), so
 * Stripe refuses a second copy (`An event already exists with identifier …`). At most 100 characters.
 */
export function meterEventIdentifier(input: { tenantId: number; metric: UsageMetric; hour: string; revision: number }): string {
  const hour = input.hour.slice(0, 13).replace(/[-:]/g, '');
  return `wharf-${input.tenantId}-${input.metric}-${hour}${input.revision > 0 ? `-r${input.revision}` : ''}`;
}
