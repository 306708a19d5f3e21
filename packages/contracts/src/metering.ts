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

/** The runtime's request counter (runtime/src/http/metrics.ts), by route pattern, method and status. */
export const RUNTIME_REQUESTS_METRIC = 'wharf_runtime_http_requests_total' as const;

const COUNTER_LINE = /^wharf_runtime_http_requests_total(?:\{(.*)\})?\s+([0-9.eE+]+)(?:\s+\d+)?$/;
const ROUTE_LABEL = /(?:^|,)route="((?:[^"\\]|\\.)*)"/;

/** The most requests one runtime process is taken to have answered: a runtime cannot make the sums overflow. */
export const RUNTIME_REQUESTS_MAX = 1_000_000_000_000;

/**
 * The requests a runtime answered for the app, from its Prometheus text: the sum of RUNTIME_REQUESTS_METRIC over
 * every series except Wharf's own paths (health checks under `reservedPrefix` are not the customer's usage), at most
 * RUNTIME_REQUESTS_MAX. null when the text has no such counter. Reads at most `maxLines` lines (the text comes from a
 * runtime Wharf does not trust).
 */
export function sumRuntimeRequests(text: string, reservedPrefix: string, maxLines = 20_000): number | null {
  let total: number | null = null;
  let lines = 0;
  for (const line of text.split('\n')) {
    if (++lines > maxLines) break;
    const m = COUNTER_LINE.exec(line.trim());
    if (!m) continue;
    const route = ROUTE_LABEL.exec(m[1] ?? '')?.[1] ?? '';
    if (route.startsWith(reservedPrefix)) continue;
    const value = Number(m[2]);
    if (Number.isFinite(value) && value >= 0) total = Math.min(RUNTIME_REQUESTS_MAX, (total ?? 0) + Math.floor(value));
  }
  return total;
}
