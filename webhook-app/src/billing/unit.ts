/**
 * Billing as a control-plane unit, mounted when STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are set: the Stripe
 * webhook route, the worker that processes stored events, and the dunning sweep. With the key alone (metering only)
 * it is not mounted and says so: the subscription state Wharf acts on comes only from verified webhooks.
 */
import { billing, type DatabasePool } from '@wharf/store';
import { CronJob } from 'cron';
import type { Logger } from 'pino';
import type { ControlPlaneSettings } from '../settings.js';
import type { UnitFactory } from '../units.js';
import { createBillingService, type BillingService } from './billing-service.js';
import { createEventWorker } from './event-worker.js';
import { createStripeClient } from './stripe-client.js';
import { stripeWebhookRoute } from './webhook-route.js';

type BillingSettingsIn = Pick<
  ControlPlaneSettings,
  'STRIPE_SECRET_KEY' | 'STRIPE_API_URL' | 'STRIPE_CHECKOUT_REQUIRE_CARD' | 'WHARF_BILLING_GRACE_DAYS' | 'WHARF_PUBLIC_URL'
>;

export function billingServiceFromSettings(input: { pool: DatabasePool; log: Logger; settings: BillingSettingsIn }): BillingService {
  const s = input.settings;
  return createBillingService({
    pool: input.pool,
    log: input.log,
    stripe: s.STRIPE_SECRET_KEY ? createStripeClient({ secretKey: s.STRIPE_SECRET_KEY, apiUrl: s.STRIPE_API_URL }) : null,
    requireCard: s.STRIPE_CHECKOUT_REQUIRE_CARD,
    graceDays: s.WHARF_BILLING_GRACE_DAYS,
    publicUrl: s.WHARF_PUBLIC_URL ?? null,
  });
}

export const billingUnit: UnitFactory = async ({ pool, log, settings }) => {
  if (!settings.STRIPE_SECRET_KEY) return null;
  if (!settings.STRIPE_WEBHOOK_SECRET) {
    // Metering may run with the key alone; billing acts only on verified webhooks, so without the secret it hears none.
    log.warn('STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: no Stripe webhooks are received, so plans do not follow subscriptions (docs/billing.md)');
    return null;
  }
  const stripe = createStripeClient({ secretKey: settings.STRIPE_SECRET_KEY, apiUrl: settings.STRIPE_API_URL });
  const worker = createEventWorker({ pool, stripe, log: log.child({ component: 'stripe-events' }) });
  // Every minute: organizations past due beyond the grace period get their previews paused (once).
  const dunning = CronJob.from({
    cronTime: '0 * * * * *',
    timeZone: 'UTC',
    waitForCompletion: true,
    start: false,
    onTick: async () => {
      const paused = await billing.pausePreviewsPastGrace(pool, settings.WHARF_BILLING_GRACE_DAYS);
      if (paused.length > 0) log.warn({ tenants: paused, graceDays: settings.WHARF_BILLING_GRACE_DAYS }, 'previews paused: payment past due beyond the grace period');
    },
    errorHandler: (err) => log.error({ err }, 'dunning sweep failed'),
  });
  return {
    name: 'billing',
    plugin: stripeWebhookRoute({
      pool,
      stripe,
      secret: settings.STRIPE_WEBHOOK_SECRET,
      toleranceSeconds: settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
      log,
      onStored: () => worker.kick(),
    }),
    start: () => {
      worker.start();
      dunning.start();
    },
    stop: async () => {
      await dunning.stop();
      await worker.stop();
    },
  };
};
