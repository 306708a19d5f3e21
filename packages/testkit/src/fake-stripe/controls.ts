/**
 * Test controls: what the customer does in Stripe's hosted pages (Checkout, the customer portal, the hosted
 * invoice page) and what Stripe does on its own over time. They change the fake's state and emit the events
 * Stripe would, with `request: null` as Stripe's own actions carry. They are not part of Stripe's API.
 */
import type Stripe from 'stripe';
import type { FakeStripeContext } from './context.js';
import { stripeErrors, type CardOutcome, type StripeErrorBody } from './errors.js';
import { stripeId } from './ids.js';
import { customerObject, planFromPrice } from './objects.js';
import { advanceTime } from './advance-time.js';
import { collect, customerIdOf, periodOf, requirePrice, startSubscription } from './subscription-cycle.js';

const DAY = 86_400;

export interface CompleteCheckoutOptions {
  /** The card the customer enters (default: one that succeeds). */
  card?: CardOutcome;
  /** For a session without a customer: the email the customer types (default: the session's customer_email). */
  email?: string;
  name?: string;
}

export interface FakeStripeControls {
  /**
   * The customer pays on the Checkout page: a customer is created if the session had none, the card is saved,
   * the subscription starts (trialing, or active once its first invoice is paid) and
   * `checkout.session.completed` is emitted. A declined card (without a trial) throws the card error Checkout
   * shows, and the session stays open.
   */
  completeCheckoutSession(id: string, options?: CompleteCheckoutOptions): Stripe.Checkout.Session;
  /** The customer's card on file from now on (as if updated in the portal): what charging it does. */
  setCard(customerId: string, outcome: CardOutcome): void;
  /**
   * Stripe tries to collect an open invoice now (an automatic retry, or the customer paying on the hosted
   * invoice page with the card on file): `invoice.paid` or `invoice.payment_failed`, and the subscription's
   * status follows.
   */
  attemptInvoicePayment(invoiceId: string): { paid: boolean; error?: StripeErrorBody };
  /** The customer cancels in the portal: at the end of the period (default) or at once. */
  cancelSubscriptionAsCustomer(subscriptionId: string, options?: { atPeriodEnd?: boolean; feedback?: Stripe.Subscription.CancellationDetails.Feedback }): Stripe.Subscription;
  /** The customer switches an item's price in the portal (no prorations). */
  changePriceAsCustomer(subscriptionId: string, fromPriceId: string, toPriceId: string): Stripe.Subscription;
  /**
   * Time passes: the fake's clock moves forward, and trial notices, trial ends, renewals (with metered usage),
   * payment retries and scheduled cancellations happen at the moments they fall due.
   */
  advanceTime(seconds: number): void;
}

export function createControls(ctx: FakeStripeContext): FakeStripeControls {
  const requireSubscription = (id: string) => {
    const sub = ctx.state.subscriptions.get(id);
    if (!sub) throw new Error(`the fake Stripe has no subscription ${id}`);
    return sub;
  };
  const emitChanged = (sub: Stripe.Subscription, before: Stripe.Subscription) => {
    const previous: Record<string, unknown> = {};
    for (const k of Object.keys(sub) as (keyof Stripe.Subscription)[]) if (JSON.stringify(sub[k]) !== JSON.stringify(before[k])) previous[k] = before[k];
    if (Object.keys(previous).length > 0) ctx.emit('customer.subscription.updated', sub, { previous, request: null });
  };
  const saveCard = (customerId: string, outcome: CardOutcome) => {
    const paymentMethod = stripeId('pm', 24);
    ctx.state.cards.set(customerId, { paymentMethod, outcome });
    return paymentMethod;
  };

  return {
    completeCheckoutSession(id, options = {}) {
      const session = ctx.state.checkoutSessions.get(id);
      const params = ctx.state.checkoutRequests.get(id);
      if (!session || !params) throw new Error(`the fake Stripe has no checkout session ${id}`);
      const now = ctx.clock.now();
      if (session.status === 'open' && now >= session.expires_at) {
        session.status = 'expired';
        ctx.emit('checkout.session.expired', session, { request: null });
      }
      if (session.status !== 'open') throw new Error(`checkout session ${id} is ${session.status}, not open`);
      const sd = params.subscription_data;
      const trialEnd = sd?.trial_end ?? (sd?.trial_period_days !== undefined ? now + sd.trial_period_days * DAY : null);
      const collectsCard = !trialEnd || session.payment_method_collection !== 'if_required';
      const card = options.card ?? 'succeeds';
      if (collectsCard && !trialEnd && card !== 'succeeds') throw stripeErrors.cardDeclined(card);
      let customer = session.customer ? ctx.state.customers.get(customerIdOf(session.customer)) : undefined;
      if (!customer) {
        const email = options.email ?? session.customer_email;
        if (!email) throw new Error(`checkout session ${id} has no customer or customer_email: pass options.email`);
        customer = customerObject(now, { email, ...(options.name ? { name: options.name } : {}) });
        ctx.state.customers.set(customer.id, customer);
        ctx.emit('customer.created', customer, { request: null });
      }
      const paymentMethod = collectsCard ? saveCard(customer.id, card) : null;
      const items = (params.line_items ?? []).map((li, i) => ({ price: requirePrice(ctx, li.price ?? '', `line_items[${i}][price]`), quantity: li.quantity }));
      const sub = startSubscription(
        ctx,
        {
          customer,
          items,
          trialEnd,
          metadata: sd?.metadata,
          defaultPaymentMethod: paymentMethod,
          missingPaymentMethod: sd?.trial_settings?.end_behavior.missing_payment_method,
          description: sd?.description ?? null,
        },
        null,
      );
      Object.assign(session, {
        status: 'complete',
        payment_status: trialEnd ? 'no_payment_required' : 'paid',
        customer: customer.id,
        subscription: sub.id,
        invoice: typeof sub.latest_invoice === 'string' ? sub.latest_invoice : (sub.latest_invoice?.id ?? null),
        customer_details: {
          address: null,
          business_name: null,
          email: customer.email,
          individual_name: null,
          name: customer.name ?? null,
          phone: null,
          tax_exempt: 'none',
          tax_ids: [],
        },
      } satisfies Partial<Stripe.Checkout.Session>);
      ctx.emit('checkout.session.completed', session, { request: null });
      return session;
    },

    setCard(customerId, outcome) {
      if (!ctx.state.customers.has(customerId)) throw new Error(`the fake Stripe has no customer ${customerId}`);
      saveCard(customerId, outcome);
    },

    attemptInvoicePayment(invoiceId) {
      const invoice = ctx.state.invoices.get(invoiceId);
      if (!invoice) throw new Error(`the fake Stripe has no invoice ${invoiceId}`);
      const error = collect(ctx, invoice, null);
      return error ? { paid: false, error: error.error } : { paid: true };
    },

    cancelSubscriptionAsCustomer(subscriptionId, options = {}) {
      const sub = requireSubscription(subscriptionId);
      const before = structuredClone(sub);
      const now = ctx.clock.now();
      const details = { comment: null, feedback: options.feedback ?? null, feedback_option: null, reason: 'cancellation_requested' as const };
      if (options.atPeriodEnd === false) {
        Object.assign(sub, { status: 'canceled', canceled_at: now, ended_at: now, cancel_at_period_end: false, cancellation_details: details });
        ctx.emit('customer.subscription.deleted', sub, { request: null });
        return sub;
      }
      Object.assign(sub, { cancel_at_period_end: true, cancel_at: periodOf(sub).end, canceled_at: now, cancellation_details: details });
      emitChanged(sub, before);
      return sub;
    },

    changePriceAsCustomer(subscriptionId, fromPriceId, toPriceId) {
      const sub = requireSubscription(subscriptionId);
      const item = sub.items.data.find((i) => i.price.id === fromPriceId);
      if (!item) throw new Error(`subscription ${subscriptionId} has no item with price ${fromPriceId}`);
      const price = requirePrice(ctx, toPriceId, 'price');
      const before = structuredClone(sub);
      Object.assign(item, { price: structuredClone(price), plan: planFromPrice(price) });
      emitChanged(sub, before);
      return sub;
    },

    advanceTime(seconds) {
      advanceTime(ctx, seconds);
    },
  };
}
