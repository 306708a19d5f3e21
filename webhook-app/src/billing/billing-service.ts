/**
 * Billing for the REST API and the CLI: the usage view of an organization, and the Stripe sessions that change its
 * subscription (Checkout to upgrade, the customer portal for everything else). Nothing here changes the plan: the
 * plan changes when Stripe's webhook says the subscription did (process-event.ts).
 */
import { billingPlan, COUNTED_LIMITS, dunningPhase, graceEndsAt, type BillingPlanId, BILLING_PLANS, USAGE_METRIC_NAMES, type CountedLimit } from '@wharf/contracts';
import { billing, organizations, type DatabasePool, type TenantScope } from '@wharf/store';
import type { Logger } from 'pino';
import type Stripe from 'stripe';

export interface BillingServiceOptions {
  pool: DatabasePool;
  /** null: billing is off (no STRIPE_SECRET_KEY); every organization stays on its plan (Free by default). */
  stripe: Stripe | null;
  log: Logger;
  requireCard: boolean;
  graceDays: number;
  /** Where Checkout and the portal send the browser back by default (WHARF_PUBLIC_URL). */
  publicUrl: string | null;
  now?: () => Date;
}

export interface BillingView {
  plan: BillingPlanId;
  planName: string;
  status: billing.BillingAccount['status'];
  billingEnabled: boolean;
  period: { start: string; end: string } | null;
  trialEndsAt: string | null;
  cancelAtPeriodEnd: boolean;
  pastDueSince: string | null;
  graceEndsAt: string | null;
  banner: string | null;
  usage: { limit: CountedLimit; used: number; allowed: number | null }[];
  upcomingInvoice: { currency: string; total: number; amountDue: number; periodEnd: string | null; lines: { description: string | null; amount: number; quantity: number | null }[] } | null;
}

export class BillingError extends Error {
  constructor(
    readonly code: 'billing-unavailable' | 'already-subscribed' | 'validation-failed' | 'not-found' | 'stripe-unavailable',
    message: string,
  ) {
    super(message);
  }
}

export interface BillingService {
  readonly enabled: boolean;
  view(scope: TenantScope): Promise<BillingView>;
  checkout(scope: TenantScope, input: { plan: BillingPlanId; seats?: number; successUrl?: string; cancelUrl?: string }): Promise<{ id: string; url: string }>;
  portal(scope: TenantScope, input: { returnUrl?: string }): Promise<{ id: string; url: string }>;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;
const LIVE = new Set(['trialing', 'active', 'past_due']);

export function createBillingService(options: BillingServiceOptions): BillingService {
  const { pool, stripe, log } = options;
  const now = options.now ?? (() => new Date());

  const requireStripe = (): Stripe => {
    if (!stripe) throw new BillingError('billing-unavailable', 'this Wharf is not connected to Stripe: set STRIPE_SECRET_KEY (docs/billing.md)');
    return stripe;
  };

  const stripeCall = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      log.warn({ err, what }, 'stripe request failed');
      // Stripe's own text stays in the log: it can name keys, customers and the API host.
      const requestId = (err as { requestId?: unknown }).requestId;
      throw new BillingError('stripe-unavailable', `Stripe refused or did not answer (${what})${typeof requestId === 'string' ? `; Stripe request ${requestId}` : ''}`);
    }
  };

  /** The organization's Stripe customer, created once (the idempotency key makes a retry or a race create one). */
  const ensureCustomer = async (s: Stripe, scope: TenantScope): Promise<billing.BillingAccount> => {
    const existing = await billing.getBillingAccount(pool, scope);
    if (existing) return existing;
    const org = await organizations.getOrganization(pool, scope);
    if (!org) throw new BillingError('not-found', 'no such organization');
    const customer = await stripeCall('create customer', () =>
      s.customers.create(
        { name: org.name, metadata: { wharf_organization: String(org.id), wharf_slug: org.slug } },
        { idempotencyKey: `wharf-customer-${org.id}` },
      ),
    );
    return billing.linkCustomer(pool, scope, { stripeCustomerId: customer.id, email: customer.email ?? null });
  };

  /**
   * Where Stripe sends the browser back to: only this Wharf (WHARF_PUBLIC_URL's origin; without it, a loopback
   * address of a Wharf on this machine). Any other host would turn Stripe's trusted pages into a redirect to it.
   */
  const publicOrigin = options.publicUrl ? new URL(options.publicUrl).origin : null;
  const returnUrl = (given: string | undefined, what: string): string => {
    const url = given ?? (options.publicUrl ? `${options.publicUrl.replace(/\/$/, '')}/api/v1/billing` : null);
    if (!url) throw new BillingError('validation-failed', `give ${what} (or set WHARF_PUBLIC_URL)`);
    const parsed = URL.canParse(url) ? new URL(url) : null;
    const ours = parsed && (publicOrigin ? parsed.origin === publicOrigin : ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname));
    if (!ours) throw new BillingError('validation-failed', `${what} must be an address of this Wharf (${publicOrigin ?? 'a loopback address: set WHARF_PUBLIC_URL for another'})`);
    return url;
  };

  return {
    enabled: stripe !== null,

    async view(scope) {
      const state = await billing.getTenantBilling(pool, scope);
      if (!state) throw new BillingError('not-found', 'no such organization');
      const plan = billingPlan(state.plan);
      const account = await billing.getBillingAccount(pool, scope);
      const used = await billing.countUsage(pool, scope);
      // The pause the dunning sweep recorded is what holds previews; before it, the grace period runs.
      const phase = state.previews_paused ? 'previews-paused' : dunningPhase({ status: state.status, pastDueSince: state.past_due_since }, now(), options.graceDays);
      const grace = state.past_due_since ? graceEndsAt(state.past_due_since, options.graceDays) : null;
      const banner =
        phase === 'grace'
          ? `Payment failed: update the card in the billing portal by ${grace?.toISOString().slice(0, 10)}. Until then everything keeps running; after it, previews pause (production keeps running).`
          : phase === 'previews-paused'
            ? 'Payment is past due: previews are paused (their data is kept). Production keeps running. Pay the open invoice in the billing portal to resume them.'
            : account?.status === 'trialing' && account.trial_end
              ? `Trial of ${plan.name} ends on ${account.trial_end.toISOString().slice(0, 10)}.`
              : null;
      let upcomingInvoice: BillingView['upcomingInvoice'] = null;
      if (stripe && account?.subscription_id && LIVE.has(account.status)) {
        try {
          const preview = await stripe.invoices.createPreview({ customer: account.stripe_customer_id, subscription: account.subscription_id });
          upcomingInvoice = {
            currency: preview.currency,
            total: preview.total,
            amountDue: preview.amount_due,
            periodEnd: preview.period_end ? new Date(preview.period_end * 1000).toISOString() : null,
            lines: preview.lines.data.map((l) => ({ description: l.description ?? null, amount: l.amount, quantity: l.quantity ?? null })),
          };
        } catch (err) {
          log.warn({ err, tenantId: scope.tenantId }, 'could not preview the upcoming invoice');
        }
      }
      return {
        plan: plan.id,
        planName: plan.name,
        status: state.status,
        billingEnabled: stripe !== null,
        period: account?.period_start && account.period_end ? { start: account.period_start.toISOString(), end: account.period_end.toISOString() } : null,
        trialEndsAt: account?.status === 'trialing' ? iso(account.trial_end) : null,
        cancelAtPeriodEnd: account?.cancel_at_period_end ?? false,
        pastDueSince: iso(state.past_due_since),
        graceEndsAt: iso(grace),
        banner,
        usage: COUNTED_LIMITS.map((limit) => ({ limit, used: used[limit], allowed: plan.limits[limit] })),
        upcomingInvoice,
      };
    },

    async checkout(scope, input) {
      const s = requireStripe();
      const plan = BILLING_PLANS[input.plan];
      if (!plan.selfServe || !plan.prices) throw new BillingError('validation-failed', `the ${plan.name} plan is not bought through Checkout`);
      const account = await ensureCustomer(s, scope);
      if (account.subscription_id && LIVE.has(account.status)) {
        throw new BillingError('already-subscribed', 'change the plan, seats or card in the customer portal (POST /api/v1/billing/portal)');
      }
      const keys = [plan.prices.seat.lookupKey, ...USAGE_METRIC_NAMES.map((m) => plan.prices.usage[m].lookupKey)];
      const prices = await stripeCall('list prices', () => s.prices.list({ lookup_keys: keys, active: true, limit: 100 }));
      const byKey = new Map(prices.data.map((p) => [p.lookup_key, p.id]));
      const missing = keys.filter((k) => !byKey.has(k));
      if (missing.length > 0) throw new BillingError('billing-unavailable', `the Stripe catalog lacks ${missing.join(', ')}: run \`wharf billing sync-catalog\``);
      const { seats: members } = await billing.countUsage(pool, scope);
      const seats = input.seats ?? Math.max(1, members);
      // A trial only for an organization that never had a subscription.
      const trialDays = account.subscription_id ? 0 : plan.trialDays;
      // Checked before Stripe is called: a refused address is the caller's mistake, not Stripe's.
      const successUrl = returnUrl(input.successUrl, 'successUrl');
      const cancelUrl = returnUrl(input.cancelUrl, 'cancelUrl');
      const session = await stripeCall('create checkout session', () =>
        s.checkout.sessions.create({
          mode: 'subscription',
          customer: account.stripe_customer_id,
          client_reference_id: String(scope.tenantId),
          line_items: keys.map((k, i) => (i === 0 ? { price: byKey.get(k) as string, quantity: seats } : { price: byKey.get(k) as string })),
          success_url: successUrl,
          cancel_url: cancelUrl,
          metadata: { wharf_organization: String(scope.tenantId), wharf_plan: plan.id },
          subscription_data: { metadata: { wharf_organization: String(scope.tenantId), wharf_plan: plan.id }, ...(trialDays > 0 ? { trial_period_days: trialDays } : {}) },
          ...(trialDays > 0 && !options.requireCard ? { payment_method_collection: 'if_required' as const } : {}),
        }),
      );
      if (!session.url) throw new BillingError('stripe-unavailable', 'Stripe answered without a Checkout URL');
      return { id: session.id, url: session.url };
    },

    async portal(scope, input) {
      const s = requireStripe();
      const account = await billing.getBillingAccount(pool, scope);
      if (!account) throw new BillingError('not-found', 'this organization has no Stripe customer yet: upgrade first (POST /api/v1/billing/checkout)');
      const back = returnUrl(input.returnUrl, 'returnUrl');
      const session = await stripeCall('create portal session', () => s.billingPortal.sessions.create({ customer: account.stripe_customer_id, return_url: back }),
      );
      return { id: session.id, url: session.url };
    },
  };
}
