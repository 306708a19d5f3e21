/**
 * Checkout sessions (subscription mode, as upgrades use them) and customer portal sessions. A session is `open`
 * until a test completes it the way the customer would (`controls.completeCheckoutSession`) or it expires.
 */
import type Stripe from 'stripe';
import { onlyParams, typed, type Handler, type HandlerCall } from '../context.js';
import { stripeErrors } from '../errors.js';
import { fixture } from '../fixtures.js';
import { stripeId } from '../ids.js';
import { listOf } from '../list.js';
import { mergeMetadata } from '../objects.js';
import { amountFor } from '../pricing.js';
import { requireCustomer, requirePrice } from '../subscription-cycle.js';

const DAY = 86_400;
export const CHECKOUT_EXPIRY = { min: 30 * 60, max: DAY, default: DAY } as const;
export const TRIAL_PERIOD_DAYS_MAX = 730;

function requireSession(call: HandlerCall): Stripe.Checkout.Session {
  const session = call.ctx.state.checkoutSessions.get(call.path.id);
  if (!session) throw stripeErrors.resourceMissing('checkout.session', call.path.id);
  return session;
}

export const checkoutHandlers: Record<string, Handler> = {
  'checkout.sessions.create': typed<Stripe.Checkout.SessionCreateParams>((call, p) => {
    onlyParams(call, [
      'allow_promotion_codes', 'billing_address_collection', 'cancel_url', 'client_reference_id', 'customer', 'customer_email',
      'expires_at', 'line_items', 'locale', 'metadata', 'mode', 'payment_method_collection', 'subscription_data', 'success_url',
    ]);
    const { ctx } = call;
    const now = ctx.clock.now();
    const mode = p.mode ?? 'payment';
    if (mode !== 'subscription') throw stripeErrors.paramNotModelled(call.endpoint, `mode=${mode}`);
    if (p.customer !== undefined && p.customer_email !== undefined) {
      throw stripeErrors.invalidRequest('You may only specify one of these parameters: customer, customer_email.', 'customer');
    }
    if (p.customer !== undefined) requireCustomer(ctx, p.customer);
    const lineItems = p.line_items ?? [];
    if (lineItems.length === 0) throw stripeErrors.parameterMissing('line_items');
    let total = 0;
    let currency: string | null = null;
    lineItems.forEach((li, i) => {
      const param = `line_items[${i}]`;
      if (!li.price) throw stripeErrors.paramNotModelled(call.endpoint, `${param}[price_data]`);
      const price = requirePrice(ctx, li.price, `${param}[price]`);
      if (!price.recurring) {
        throw stripeErrors.invalidRequest('You must provide at least one recurring price in `subscription` mode when using prices.', `${param}[price]`);
      }
      if (price.recurring.usage_type === 'metered') {
        if (li.quantity !== undefined) throw stripeErrors.invalidRequest(`Quantity should not be specified where usage_type is \`metered\`. Remove quantity from \`${param}\`.`, `${param}[quantity]`);
      } else {
        if (li.quantity === undefined) throw stripeErrors.parameterMissing(`${param}[quantity]`);
        total += amountFor(price, li.quantity);
      }
      currency ??= price.currency;
    });
    const sd = p.subscription_data;
    if (sd?.trial_period_days !== undefined && (sd.trial_period_days < 1 || sd.trial_period_days > TRIAL_PERIOD_DAYS_MAX)) {
      throw stripeErrors.parameterInvalid('subscription_data[trial_period_days]', `The trial period must be between 1 and ${TRIAL_PERIOD_DAYS_MAX} days.`);
    }
    if (sd?.trial_end !== undefined && sd.trial_end < now + 2 * DAY) {
      throw stripeErrors.parameterInvalid('subscription_data[trial_end]', '`subscription_data[trial_end]` must be at least 48 hours in the future.');
    }
    const expiresAt = p.expires_at ?? now + CHECKOUT_EXPIRY.default;
    if (expiresAt < now + CHECKOUT_EXPIRY.min || expiresAt > now + CHECKOUT_EXPIRY.max) {
      throw stripeErrors.parameterInvalid('expires_at', 'The `expires_at` timestamp must be between 30 minutes and 24 hours from now.');
    }
    const trial = sd?.trial_period_days !== undefined || sd?.trial_end !== undefined;
    const session = fixture('checkout.session');
    const id = stripeId('cs_test', 58);
    Object.assign(session, {
      id,
      after_expiration: null,
      allow_promotion_codes: p.allow_promotion_codes ?? null,
      amount_subtotal: total,
      amount_total: trial ? 0 : total,
      billing_address_collection: p.billing_address_collection ?? null,
      cancel_url: p.cancel_url ?? null,
      client_reference_id: p.client_reference_id ?? null,
      collected_information: null,
      consent: null,
      consent_collection: null,
      created: now,
      currency,
      currency_conversion: null,
      custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
      customer: p.customer ?? null,
      customer_creation: p.customer ? null : 'always',
      customer_details: null,
      customer_email: p.customer_email ?? null,
      discounts: [],
      expires_at: expiresAt,
      invoice: null,
      invoice_creation: null,
      livemode: false,
      locale: p.locale ?? null,
      metadata: mergeMetadata({}, p.metadata),
      mode,
      payment_intent: null,
      payment_method_collection: p.payment_method_collection ?? 'always',
      payment_status: 'unpaid',
      shipping_address_collection: null,
      shipping_cost: null,
      shipping_options: [],
      status: 'open',
      subscription: null,
      success_url: p.success_url ?? null,
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
      url: `https://checkout.stripe.com/c/pay/${id}`,
    } satisfies Partial<Stripe.Checkout.Session>);
    ctx.state.checkoutSessions.set(id, session);
    ctx.state.checkoutRequests.set(id, p);
    return session;
  }),
  'checkout.sessions.retrieve': (call) => requireSession(call),
  'checkout.sessions.list': typed<Stripe.Checkout.SessionListParams>((call, p) => {
    onlyParams(call, ['customer', 'ending_before', 'limit', 'starting_after', 'status', 'subscription']);
    const all = [...call.ctx.state.checkoutSessions.values()].filter(
      (s) => (p.customer === undefined || s.customer === p.customer) && (p.status === undefined || s.status === p.status) && (p.subscription === undefined || s.subscription === p.subscription),
    );
    return listOf(all, p, '/v1/checkout/sessions', 'checkout.session');
  }),
  'checkout.sessions.expire': (call) => {
    const session = requireSession(call);
    if (session.status !== 'open') {
      throw stripeErrors.invalidRequest(`Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${session.status}".`);
    }
    session.status = 'expired';
    call.ctx.emit('checkout.session.expired', session, { request: call.request });
    return session;
  },
  'billingPortal.sessions.create': typed<Stripe.BillingPortal.SessionCreateParams>((call, p) => {
    onlyParams(call, ['configuration', 'customer', 'flow_data', 'locale', 'return_url']);
    if (!p.customer) throw stripeErrors.parameterMissing('customer');
    requireCustomer(call.ctx, p.customer);
    const session = fixture('billing_portal.session');
    const id = stripeId('bps', 24);
    Object.assign(session, {
      id,
      configuration: p.configuration ?? 'bpc_fake_default',
      created: call.ctx.clock.now(),
      customer: p.customer,
      customer_account: null,
      flow: null,
      livemode: false,
      locale: p.locale ?? null,
      on_behalf_of: null,
      return_url: p.return_url ?? null,
      url: `https://billing.stripe.com/p/session/test_${stripeId('x', 40).slice(2)}`,
    } satisfies Partial<Stripe.BillingPortal.Session>);
    call.ctx.state.portalSessions.set(id, session);
    call.ctx.emit('billing_portal.session.created', session, { request: call.request });
    return session;
  }),
};
