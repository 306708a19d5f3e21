/**
 * The one Stripe client of the control plane (billing and metering share it). The API version is pinned to the one
 * the `stripe` package was made for and the fake Stripe checks. Against real Stripe, give an `sk_test_…` or `sk_live_…`
 * key and no STRIPE_API_URL; against the fake Stripe or stripe-mock, STRIPE_API_URL is its address.
 */
import type { SettingsOf, SettingsSchema } from '@wharf/contracts';
import Stripe from 'stripe';

export const STRIPE_API_VERSION = '2026-10-28.endive' as const;

export const stripeSettings = {
  STRIPE_SECRET_KEY: {
    type: 'string',
    description: 'Stripe secret key (`sk_test_…`/`sk_live_…`, or a restricted `rk_…` key). Without it billing is off: no Checkout, no Stripe webhooks, and every organization keeps the plan it has (Free unless an operator set another).',
    secret: true,
  },
  STRIPE_WEBHOOK_SECRET: {
    type: 'string',
    description: 'Signing secret (`whsec_…`) of the webhook endpoint registered in Stripe for `/api/billing/stripe/webhooks`.',
    secret: true,
  },
  STRIPE_API_URL: {
    type: 'string',
    description: 'Where the Stripe API is, when not api.stripe.com (the fake Stripe in tests, stripe-mock).',
    pattern: '^https?://',
  },
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: {
    type: 'integer',
    description: 'How old a Stripe webhook signature may be (its `t=` timestamp) before the delivery is refused with 400: replay protection.',
    default: 300,
    minimum: 10,
    maximum: 3600,
  },
  STRIPE_CHECKOUT_REQUIRE_CARD: {
    type: 'boolean',
    description: 'Whether Checkout asks for a card before a trial starts (`false`: a trial starts without one, and the subscription pauses into past_due if none is added by its end).',
    default: true,
  },
  WHARF_BILLING_GRACE_DAYS: {
    type: 'integer',
    description: 'Days a past-due organization keeps everything running (with a banner) before its previews pause. Production is never stopped by billing.',
    default: 7,
    minimum: 0,
    maximum: 60,
  },
} as const satisfies SettingsSchema;
export type StripeSettings = SettingsOf<typeof stripeSettings>;

export interface StripeClientOptions {
  secretKey: string;
  apiUrl?: string | undefined;
  /** Retries with the same idempotency key on network errors, 409, 429 and 5xx (the client does this itself). */
  maxNetworkRetries?: number;
}

export function createStripeClient(options: StripeClientOptions): Stripe {
  const url = options.apiUrl ? new URL(options.apiUrl) : undefined;
  return new Stripe(options.secretKey, {
    apiVersion: STRIPE_API_VERSION,
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    telemetry: false,
    appInfo: { name: 'wharf' },
    ...(url
      ? {
          host: url.hostname,
          port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
          protocol: url.protocol === 'https:' ? ('https' as const) : ('http' as const),
        }
      : {}),
  });
}
