import type { BackoffPolicy } from '@wharf/contracts';
import type { DatabasePool, metering } from '@wharf/store';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { MeteringMetrics } from './metrics.js';

/** Which organizations are Stripe customers (the rest are aggregated, never sent). */
export type CustomerDirectory = () => Promise<readonly metering.StripeCustomer[]>;

export interface MeteringDeps {
  pool: DatabasePool;
  log: Logger;
  /** null: no Stripe configured; usage is aggregated only. */
  stripe: Stripe | null;
  customers: CustomerDirectory;
  metrics: MeteringMetrics;
  now: () => Date;
  random: () => number;
  /** Retries of meter events Stripe could not take (down, 429, 5xx). */
  retry: BackoffPolicy;
  settleMinutes: number;
}

export const DEFAULT_METER_EVENT_RETRY: BackoffPolicy = { baseMs: 60_000, maxMs: 3_600_000, jitter: 'equal' };
