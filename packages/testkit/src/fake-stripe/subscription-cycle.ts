/**
 * The subscription life cycle as Stripe Billing runs it, with the events it emits in Stripe's order:
 * start (trialing, or incomplete → active once the first invoice is paid), invoices (draft → open → paid, or a
 * failed attempt → `invoice.payment_failed` and the subscription `past_due`, retried on the dunning schedule),
 * cancellation (now or at period end). What happens as time passes is in advance-time.ts.
 * What the fake does not do: prorations, taxes, discounts, multiple currencies, test clocks.
 */
import type Stripe from 'stripe';
import type { FakeStripeContext, RequestInfo } from './context.js';
import { FakeStripeError, stripeErrors } from './errors.js';
import { stripeId } from './ids.js';
import { invoiceObject, lineItemObject, mergeMetadata, subscriptionItemObject, subscriptionObject, type Period } from './objects.js';
import { amountFor, meterUsage } from './pricing.js';

const DAY = 86_400;

export function addInterval(from: number, interval: Stripe.Price.Recurring.Interval, count: number, anchor: number): number {
  if (interval === 'day') return from + count * DAY;
  if (interval === 'week') return from + count * 7 * DAY;
  const months = interval === 'year' ? 12 * count : count;
  const d = new Date(from * 1000);
  const a = new Date(anchor * 1000);
  const first = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1, a.getUTCHours(), a.getUTCMinutes(), a.getUTCSeconds()));
  const daysInMonth = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  first.setUTCDate(Math.min(a.getUTCDate(), daysInMonth));
  return Math.floor(first.getTime() / 1000);
}

export const customerIdOf = (c: string | { id: string }) => (typeof c === 'string' ? c : c.id);

export function requireCustomer(ctx: FakeStripeContext, id: string, param = 'customer'): Stripe.Customer {
  const c = ctx.state.customers.get(id);
  if (!c) throw stripeErrors.resourceMissing('customer', id, param);
  return c;
}

export function requirePrice(ctx: FakeStripeContext, id: string, param: string): Stripe.Price {
  const p = ctx.state.prices.get(id);
  if (!p) throw stripeErrors.resourceMissing('price', id, param);
  return p;
}

export function setStatus(ctx: FakeStripeContext, sub: Stripe.Subscription, status: Stripe.Subscription.Status, request: RequestInfo | null): void {
  if (sub.status === status) return;
  const previous = { status: sub.status };
  sub.status = status;
  ctx.emit('customer.subscription.updated', sub, { previous, request });
}

export function periodOf(sub: Stripe.Subscription): Period {
  const item = sub.items.data[0];
  return { start: item.current_period_start, end: item.current_period_end };
}

export function recurringOf(sub: Stripe.Subscription): Stripe.Price.Recurring {
  const r = sub.items.data[0].price.recurring;
  if (!r) throw new Error(`subscription ${sub.id} has a one-time price`);
  return r;
}

export interface SubscriptionItemInput {
  price: Stripe.Price;
  quantity?: number;
  metadata?: Stripe.MetadataParam;
}

/** Stripe's rule: every item of a subscription is recurring, in one currency and one billing interval. */
export function checkItems(items: SubscriptionItemInput[], param: string): void {
  if (items.length === 0) throw stripeErrors.parameterMissing(param);
  if (items.length > 20) throw stripeErrors.parameterInvalid(param, 'A subscription can have at most 20 items.');
  const [first] = items;
  for (const { price } of items) {
    if (!price.recurring) {
      throw stripeErrors.parameterInvalid(param, `The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`);
    }
    if (!price.active) throw stripeErrors.parameterInvalid(param, `The price specified is inactive. This field only accepts active prices.`);
    if (
      price.currency !== first.price.currency ||
      price.recurring.interval !== first.price.recurring?.interval ||
      price.recurring.interval_count !== first.price.recurring?.interval_count
    ) {
      throw stripeErrors.parameterInvalid(param, 'Currency and interval fields must match across all plans on this subscription.');
    }
  }
}

export interface NewSubscription {
  customer: Stripe.Customer;
  items: SubscriptionItemInput[];
  trialEnd: number | null;
  metadata?: Stripe.Emptyable<Stripe.MetadataParam>;
  defaultPaymentMethod: string | null;
  missingPaymentMethod?: Stripe.Subscription.TrialSettings.EndBehavior.MissingPaymentMethod;
  description?: string | null;
  /** false: leave the first invoice open for the client to confirm (`payment_behavior=default_incomplete`). */
  collect?: boolean;
}

/** Creates the subscription and its first invoice, and tries to collect it. */
export function startSubscription(ctx: FakeStripeContext, input: NewSubscription, request: RequestInfo | null): Stripe.Subscription {
  const now = ctx.clock.now();
  const price = input.items[0].price;
  const recurring = price.recurring!;
  const sub = subscriptionObject(now, input.customer.id, price.currency);
  const end = input.trialEnd ?? addInterval(now, recurring.interval, recurring.interval_count, now);
  sub.items.data = input.items.map((i) => subscriptionItemObject(now, sub.id, i.price, i.quantity, i.metadata, { start: now, end }));
  sub.billing_cycle_anchor = input.trialEnd ?? now;
  sub.metadata = mergeMetadata({}, input.metadata);
  sub.default_payment_method = input.defaultPaymentMethod;
  sub.description = input.description ?? null;
  if (input.missingPaymentMethod) sub.trial_settings = { end_behavior: { billing_cycle_anchor: null, missing_payment_method: input.missingPaymentMethod } };
  if (input.trialEnd) {
    sub.status = 'trialing';
    sub.trial_start = now;
    sub.trial_end = input.trialEnd;
  }
  ctx.state.subscriptions.set(sub.id, sub);
  ctx.emit('customer.subscription.created', sub, { request });
  const invoice = createInvoice(ctx, sub, 'subscription_create', { licensed: { start: now, end }, trial: Boolean(input.trialEnd) }, request);
  finalizeInvoice(ctx, invoice, request);
  if (input.collect !== false || invoice.amount_due === 0) collect(ctx, invoice, request);
  return sub;
}

interface InvoiceLines {
  licensed?: Period;
  usage?: Period;
  /** Licensed items are free (the trial) and usage is not billed. */
  trial?: boolean;
}

/** A draft invoice for the subscription: licensed items for `licensed`, metered usage for `usage`. */
export function createInvoice(
  ctx: FakeStripeContext,
  sub: Stripe.Subscription,
  reason: Stripe.Invoice.BillingReason,
  lines: InvoiceLines,
  request: RequestInfo | null,
  options: { preview?: boolean; items?: Stripe.SubscriptionItem[] } = {},
): Stripe.Invoice {
  const customer = requireCustomer(ctx, customerIdOf(sub.customer));
  const now = ctx.clock.now();
  const period = lines.usage ?? { start: lines.licensed?.start ?? now, end: lines.licensed?.start ?? now };
  const invoice = invoiceObject(now, customer, sub, reason, period);
  if (options.preview) {
    invoice.id = stripeId('upcoming_in', 24);
    invoice.lines.url = `/v1/invoices/${invoice.id}/lines`;
  }
  for (const item of options.items ?? sub.items.data) {
    const price = item.price;
    const productId = typeof price.product === 'string' ? price.product : price.product.id;
    const product = ctx.state.products.get(productId)?.name ?? productId;
    if (price.recurring?.usage_type === 'metered') {
      if (!lines.usage || lines.trial || !price.recurring.meter) continue;
      const quantity = meterUsage(ctx.state, price.recurring.meter, customer.id, lines.usage.start, lines.usage.end);
      invoice.lines.data.push(
        lineItemObject(options.preview ? null : invoice.id, sub, item, {
          amount: amountFor(price, quantity),
          quantity,
          period: lines.usage,
          description: `${product} (usage: ${quantity})`,
        }),
      );
    } else if (lines.licensed) {
      const quantity = item.quantity ?? 1;
      invoice.lines.data.push(
        lineItemObject(options.preview ? null : invoice.id, sub, item, {
          amount: lines.trial ? 0 : amountFor(price, quantity),
          quantity,
          period: lines.licensed,
          description: lines.trial ? `Trial period for ${product}` : `${quantity} × ${product}`,
        }),
      );
    }
  }
  const total = invoice.lines.data.reduce((sum, l) => sum + l.amount, 0);
  Object.assign(invoice, { subtotal: total, subtotal_excluding_tax: total, total, total_excluding_tax: total, amount_due: total, amount_remaining: total });
  if (options.preview) return invoice;
  ctx.state.invoices.set(invoice.id, invoice);
  const previous = { latest_invoice: sub.latest_invoice };
  sub.latest_invoice = invoice.id;
  ctx.emit('invoice.created', invoice, { request });
  if (reason !== 'subscription_create') ctx.emit('customer.subscription.updated', sub, { previous, request });
  return invoice;
}

export function finalizeInvoice(ctx: FakeStripeContext, invoice: Stripe.Invoice, request: RequestInfo | null): void {
  if (invoice.status !== 'draft') throw stripeErrors.invalidRequest(`This invoice is already finalized, you can't re-finalize a non-draft invoice.`, undefined, 'invoice_not_editable');
  const customer = requireCustomer(ctx, customerIdOf(invoice.customer ?? ''));
  const now = ctx.clock.now();
  ctx.state.invoiceSequence += 1;
  Object.assign(invoice, {
    status: 'open',
    number: `${customer.invoice_prefix}-${String(ctx.state.invoiceSequence).padStart(4, '0')}`,
    effective_at: now,
    status_transitions: { ...invoice.status_transitions, finalized_at: now },
    hosted_invoice_url: `https://invoice.stripe.com/i/acct_fake/test_${invoice.id}`,
    invoice_pdf: `https://pay.stripe.com/invoice/acct_fake/test_${invoice.id}/pdf`,
  } satisfies Partial<Stripe.Invoice>);
  ctx.emit('invoice.finalized', invoice, { request });
}

export function subscriptionOf(ctx: FakeStripeContext, invoice: Stripe.Invoice): Stripe.Subscription | undefined {
  const ref = invoice.parent?.subscription_details?.subscription;
  return ref ? ctx.state.subscriptions.get(typeof ref === 'string' ? ref : ref.id) : undefined;
}

export function markPaid(ctx: FakeStripeContext, invoice: Stripe.Invoice, request: RequestInfo | null, charged: boolean): void {
  const now = ctx.clock.now();
  Object.assign(invoice, {
    status: 'paid',
    amount_paid: invoice.amount_due,
    amount_remaining: 0,
    attempted: true,
    attempt_count: invoice.attempt_count + (charged ? 1 : 0),
    next_payment_attempt: null,
    status_transitions: { ...invoice.status_transitions, paid_at: now },
  } satisfies Partial<Stripe.Invoice>);
  ctx.emit('invoice.paid', invoice, { request });
  ctx.emit('invoice.payment_succeeded', invoice, { request });
  const sub = subscriptionOf(ctx, invoice);
  if (!sub || !['incomplete', 'past_due', 'unpaid'].includes(sub.status)) return;
  const stillOpen = [...ctx.state.invoices.values()].some((i) => i.status === 'open' && subscriptionOf(ctx, i)?.id === sub.id);
  if (!stillOpen) setStatus(ctx, sub, sub.trial_end && sub.trial_end > now ? 'trialing' : 'active', request);
}

/**
 * Charges the card on file for an open invoice. Returns the card error when it fails (the API's `pay` answers
 * with it); `invoice.payment_failed` is emitted, the next automatic attempt scheduled and the subscription set
 * `past_due` either way.
 */
export function collect(ctx: FakeStripeContext, invoice: Stripe.Invoice, request: RequestInfo | null): FakeStripeError | null {
  if (invoice.status !== 'open') throw stripeErrors.invalidRequest(invoice.status === 'paid' ? 'Invoice is already paid' : `This invoice can't be paid: it is ${invoice.status}.`, undefined, 'invoice_not_editable');
  if (invoice.amount_due === 0) {
    markPaid(ctx, invoice, request, false);
    return null;
  }
  const card = ctx.state.cards.get(customerIdOf(invoice.customer ?? ''));
  if (card?.outcome === 'succeeds') {
    markPaid(ctx, invoice, request, true);
    return null;
  }
  const error = card
    ? stripeErrors.cardDeclined(card.outcome)
    : stripeErrors.invalidRequest(
        'This customer has no attached payment source or default payment method. Please consider adding a default payment method. For more information, visit https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority.',
      );
  const now = ctx.clock.now();
  invoice.attempted = true;
  invoice.attempt_count += 1;
  const retryIn = ctx.settings.dunningRetryDays[invoice.attempt_count - 1];
  const sub = subscriptionOf(ctx, invoice);
  // The first invoice of a new subscription is not retried: the subscription stays `incomplete` (and expires).
  const retries = sub && invoice.billing_reason !== 'subscription_create' && retryIn !== undefined;
  invoice.next_payment_attempt = retries ? now + retryIn * DAY : null;
  ctx.emit('invoice.payment_failed', invoice, { request });
  if (sub && (sub.status === 'active' || sub.status === 'trialing')) setStatus(ctx, sub, 'past_due', request);
  if (sub && invoice.next_payment_attempt === null && sub.status === 'past_due') {
    if (ctx.settings.afterAllRetriesFail === 'cancel') cancelSubscription(ctx, sub, request, { reason: 'payment_failed' });
    else if (ctx.settings.afterAllRetriesFail === 'mark_unpaid') setStatus(ctx, sub, 'unpaid', request);
  }
  return error;
}

export function cancelSubscription(
  ctx: FakeStripeContext,
  sub: Stripe.Subscription,
  request: RequestInfo | null,
  options: { reason: Stripe.Subscription.CancellationDetails.Reason | null; invoiceUsage?: boolean; comment?: string | null; feedback?: Stripe.Subscription.CancellationDetails.Feedback | null },
): void {
  const now = ctx.clock.now();
  if (options.invoiceUsage && sub.status !== 'trialing' && sub.items.data.some((i) => i.price.recurring?.usage_type === 'metered')) {
    const invoice = createInvoice(ctx, sub, 'subscription_cycle', { usage: { start: periodOf(sub).start, end: now } }, request);
    finalizeInvoice(ctx, invoice, request);
    collect(ctx, invoice, request);
  }
  Object.assign(sub, {
    status: 'canceled',
    canceled_at: sub.canceled_at ?? now,
    ended_at: now,
    cancel_at_period_end: false,
    cancellation_details: {
      comment: options.comment ?? sub.cancellation_details?.comment ?? null,
      feedback: options.feedback ?? sub.cancellation_details?.feedback ?? null,
      feedback_option: null,
      reason: options.reason,
    },
  } satisfies Partial<Stripe.Subscription>);
  ctx.emit('customer.subscription.deleted', sub, { request });
}
