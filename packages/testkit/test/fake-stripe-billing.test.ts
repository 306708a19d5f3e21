/**
 * The subscription life cycle billing builds on, with the real client: Checkout completed as the customer would,
 * trials, the customer portal, renewals with metered usage, failed and recovered payments (card_declined 402),
 * dunning, cancellation, invoice previews; each step with the events Stripe emits.
 */
import type { FakeStripe } from '@wharf/testkit';
import Stripe from 'stripe';
import t from 'tap';
import { fakeStripeWithClient, rejection } from './helpers/fake-stripe.js';

const DAY = 86_400;

async function catalog(stripe: Stripe) {
  const product = await stripe.products.create({ id: 'wharf_plan_pro', name: 'Wharf Pro' });
  const seat = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' }, lookup_key: 'wharf_pro_seat_monthly' });
  const business = await stripe.prices.create({ product_data: { name: 'Wharf Business' }, currency: 'usd', unit_amount: 5000, recurring: { interval: 'month' } });
  const meter = await stripe.billing.meters.create({ display_name: 'Deploys', event_name: 'wharf_deploys', default_aggregation: { formula: 'sum' } });
  const deploys = await stripe.prices.create({
    product: product.id,
    currency: 'usd',
    billing_scheme: 'tiered',
    tiers_mode: 'graduated',
    tiers: [
      { up_to: 100, unit_amount: 0 },
      { up_to: 'inf', unit_amount_decimal: Stripe.Decimal.from('1') },
    ],
    recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
    lookup_key: 'wharf_pro_deploys',
  });
  return { seat, business, deploys, meter };
}

const typesSince = (fake: FakeStripe, from: number) => [...fake.state.events.values()].slice(from).map((e) => e.type);

async function upgrade(fake: FakeStripe, stripe: Stripe, options: { trial?: boolean; card?: 'succeeds' | 'generic_decline' | 'insufficient_funds' } = {}) {
  const prices = await catalog(stripe);
  const customer = await stripe.customers.create({ email: 'owner@example.test', metadata: { tenant: 'org-1' } });
  const session = await stripe.checkout.sessions.create({
    mode: 'subscription',
    customer: customer.id,
    client_reference_id: 'org-1',
    line_items: [{ price: prices.seat.id, quantity: 2 }, { price: prices.deploys.id }],
    success_url: 'https://wharf.example/billing?done=1',
    cancel_url: 'https://wharf.example/billing',
    subscription_data: { metadata: { tenant: 'org-1' }, ...(options.trial ? { trial_period_days: 7 } : {}) },
    ...(options.trial ? { payment_method_collection: 'if_required' as const } : {}),
  });
  return { prices, customer, session };
}

t.test('an upgrade through Checkout: the session completes, the subscription starts, the first invoice is paid', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const { customer, session } = await upgrade(fake, stripe);
  t.match(session.url, /^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
  t.equal(session.status, 'open');
  t.equal(session.amount_total, 4000, 'two seats at $20');
  const before = fake.state.events.size;
  fake.controls.completeCheckoutSession(session.id);
  t.same(typesSince(fake, before), [
    'customer.subscription.created',
    'invoice.created',
    'invoice.finalized',
    'invoice.paid',
    'invoice.payment_succeeded',
    'customer.subscription.updated',
    'checkout.session.completed',
  ]);
  const done = await stripe.checkout.sessions.retrieve(session.id);
  t.equal(done.status, 'complete');
  t.equal(done.payment_status, 'paid');
  t.equal(done.customer, customer.id);
  const sub = await stripe.subscriptions.retrieve(done.subscription as string, { expand: ['latest_invoice'] });
  t.equal(sub.status, 'active');
  t.same(sub.metadata, { tenant: 'org-1' });
  t.equal(sub.items.data.length, 2);
  t.equal(sub.items.data[0].quantity, 2);
  t.equal(sub.items.data[1].quantity, undefined, 'metered items have no quantity');
  const invoice = sub.latest_invoice as Stripe.Invoice;
  t.equal(invoice.status, 'paid');
  t.equal(invoice.amount_paid, 4000);
  t.equal(invoice.billing_reason, 'subscription_create');
  t.equal(invoice.parent?.subscription_details?.subscription, sub.id);
  const created = [...fake.state.events.values()].find((e) => e.type === 'customer.subscription.created')!;
  t.equal((created.data.object as Stripe.Subscription).status, 'incomplete', 'created incomplete, then updated to active: order matters to a receiver');
  t.equal(created.request?.id, null, 'what Stripe does on its own carries no request');
  const completed = [...fake.state.events.values()].at(-1)!;
  t.equal((completed.data.object as Stripe.Checkout.Session).client_reference_id, 'org-1');
});

t.test('a declined card at Checkout: the customer sees card_declined and the session stays open', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const { session } = await upgrade(fake, stripe);
  t.throws(() => fake.controls.completeCheckoutSession(session.id, { card: 'generic_decline' }), { message: 'Your card was declined.' });
  t.equal((await stripe.checkout.sessions.retrieve(session.id)).status, 'open');
  t.equal(fake.state.subscriptions.size, 0);
  fake.controls.completeCheckoutSession(session.id);
  t.equal((await stripe.checkout.sessions.retrieve(session.id)).status, 'complete', 'a second try with a good card completes it');
  t.throws(() => fake.controls.completeCheckoutSession(session.id), /is complete, not open/);
  const expired = await stripe.checkout.sessions.create({ mode: 'subscription', customer_email: 'x@example.test', line_items: [{ price: [...fake.state.prices.values()][0].id, quantity: 1 }] });
  t.equal((await stripe.checkout.sessions.expire(expired.id)).status, 'expired');
});

t.test('checkout sessions are checked like Stripe checks them', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const { prices, customer } = await upgrade(fake, stripe);
  const quantity = await rejection(stripe.checkout.sessions.create({ mode: 'subscription', customer: customer.id, line_items: [{ price: prices.deploys.id, quantity: 1 }] }));
  t.match(quantity.message, /Quantity should not be specified where usage_type is `metered`/);
  const noQuantity = await rejection(stripe.checkout.sessions.create({ mode: 'subscription', customer: customer.id, line_items: [{ price: prices.seat.id }] }));
  t.equal(noQuantity.param, 'line_items[0][quantity]');
  const both = await rejection(stripe.checkout.sessions.create({ mode: 'subscription', customer: customer.id, customer_email: 'a@example.test', line_items: [{ price: prices.seat.id, quantity: 1 }] }));
  t.match(both.message, /only specify one of these parameters: customer, customer_email/);
  const trial = await rejection(stripe.checkout.sessions.create({ mode: 'subscription', customer: customer.id, line_items: [{ price: prices.seat.id, quantity: 1 }], subscription_data: { trial_period_days: 0 } }));
  t.equal(trial.param, 'subscription_data[trial_period_days]');
  const price = await rejection(stripe.checkout.sessions.create({ mode: 'subscription', customer: customer.id, line_items: [{ price: 'price_nope', quantity: 1 }] }));
  t.equal(price.param, 'line_items[0][price]');
  t.equal(price.code, 'resource_missing');
});

t.test('a trial without a card: trial_will_end, then the first invoice fails and the subscription is past_due until paid', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const { customer, session } = await upgrade(fake, stripe, { trial: true });
  const start = fake.clock.now();
  fake.controls.completeCheckoutSession(session.id);
  const done = await stripe.checkout.sessions.retrieve(session.id);
  t.equal(done.payment_status, 'no_payment_required');
  const subId = done.subscription as string;
  let sub = await stripe.subscriptions.retrieve(subId);
  t.equal(sub.status, 'trialing');
  t.equal(sub.trial_end, start + 7 * DAY);
  t.equal(sub.default_payment_method, null, 'no card was asked for');
  let mark = fake.state.events.size;
  fake.controls.advanceTime(4 * DAY);
  t.same(typesSince(fake, mark), ['customer.subscription.trial_will_end']);
  t.equal([...fake.state.events.values()].at(-1)!.created, start + 4 * DAY, 'emitted three days before the trial ends, stamped then');
  mark = fake.state.events.size;
  fake.controls.advanceTime(3 * DAY);
  t.same(typesSince(fake, mark), [
    'customer.subscription.updated',
    'invoice.created',
    'customer.subscription.updated',
    'invoice.finalized',
    'invoice.payment_failed',
    'customer.subscription.updated',
  ]);
  sub = await stripe.subscriptions.retrieve(subId);
  t.equal(sub.status, 'past_due');
  const invoice = await stripe.invoices.retrieve(sub.latest_invoice as string);
  t.equal(invoice.status, 'open');
  t.equal(invoice.amount_due, 4000);
  t.equal(invoice.attempt_count, 1);
  t.equal(invoice.next_payment_attempt, start + 7 * DAY + 3 * DAY, 'retried on the dunning schedule');
  fake.controls.setCard(customer.id, 'succeeds');
  t.same(fake.controls.attemptInvoicePayment(invoice.id), { paid: true });
  t.equal((await stripe.subscriptions.retrieve(subId)).status, 'active');
  t.same(typesSince(fake, fake.state.events.size - 3), ['invoice.paid', 'invoice.payment_succeeded', 'customer.subscription.updated']);
});

t.test('a failed renewal: card_declined 402 from invoices.pay, invoice.payment_failed, then recovery', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const { customer, session } = await upgrade(fake, stripe);
  fake.controls.completeCheckoutSession(session.id);
  const subId = (await stripe.checkout.sessions.retrieve(session.id)).subscription as string;
  fake.controls.setCard(customer.id, 'insufficient_funds');
  const sub = await stripe.subscriptions.retrieve(subId);
  fake.controls.advanceTime(sub.items.data[0].current_period_end - fake.clock.now());
  const renewed = await stripe.subscriptions.retrieve(subId);
  t.equal(renewed.status, 'past_due');
  const invoiceId = renewed.latest_invoice as string;
  const failed = [...fake.state.events.values()].filter((e) => e.type === 'invoice.payment_failed');
  t.equal(failed.length, 1);
  t.equal((failed[0].data.object as Stripe.Invoice).id, invoiceId);
  const err = await rejection(stripe.invoices.pay(invoiceId));
  t.equal(err.type, 'StripeCardError');
  t.equal(err.statusCode, 402);
  t.equal(err.code, 'card_declined');
  t.equal(err.decline_code, 'insufficient_funds');
  t.equal(err.message, 'Your card has insufficient funds.');
  t.equal((await stripe.invoices.retrieve(invoiceId)).attempt_count, 2);
  fake.controls.setCard(customer.id, 'succeeds');
  const paid = await stripe.invoices.pay(invoiceId);
  t.equal(paid.status, 'paid');
  t.equal(paid.amount_paid, 4000);
  t.equal((await stripe.subscriptions.retrieve(subId)).status, 'active');
  const again = await rejection(stripe.invoices.pay(invoiceId));
  t.equal(again.message, 'Invoice is already paid');
});

t.test('dunning: when every retry fails the subscription is canceled (or stays past_due, per setting)', async (t) => {
  for (const [setting, final] of [['cancel', 'canceled'], ['leave_past_due', 'past_due'], ['mark_unpaid', 'unpaid']] as const) {
    const { fake, stripe } = await fakeStripeWithClient(t, { billing: { afterAllRetriesFail: setting } });
    const { customer, session } = await upgrade(fake, stripe);
    fake.controls.completeCheckoutSession(session.id);
    const subId = (await stripe.checkout.sessions.retrieve(session.id)).subscription as string;
    fake.controls.setCard(customer.id, 'expired_card');
    fake.controls.advanceTime(31 * DAY + 16 * DAY);
    const sub = await stripe.subscriptions.retrieve(subId);
    t.equal(sub.status, final, `afterAllRetriesFail=${setting}`);
    const invoice = await stripe.invoices.retrieve(sub.latest_invoice as string);
    t.equal(invoice.attempt_count, 4, 'first attempt and three retries (3, 5, 7 days)');
    if (final === 'canceled') t.equal(sub.cancellation_details?.reason, 'payment_failed');
  }
});

t.test('renewal bills metered usage of the ended period past the included tier; the preview says so first', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const { customer, session, prices } = await upgrade(fake, stripe);
  fake.controls.completeCheckoutSession(session.id);
  const subId = (await stripe.checkout.sessions.retrieve(session.id)).subscription as string;
  const sub = await stripe.subscriptions.retrieve(subId);
  const periodEnd = sub.items.data[0].current_period_end;
  await stripe.billing.meterEvents.create({ event_name: 'wharf_deploys', identifier: 'd1', payload: { stripe_customer_id: customer.id, value: '200' } });
  await stripe.billing.meterEvents.create({ event_name: 'wharf_deploys', identifier: 'd2', payload: { stripe_customer_id: customer.id, value: '50' } });
  const preview = await stripe.invoices.createPreview({ subscription: subId });
  t.match(preview.id, /^upcoming_in_/);
  const usageLine = preview.lines.data.find((l) => l.pricing?.price_details?.price === prices.deploys.id)!;
  t.equal(usageLine.quantity, 250);
  t.equal(usageLine.amount, 150, '100 deploys included, 150 at 1 cent');
  t.equal(preview.total, 4150);
  const upgraded = await stripe.invoices.createPreview({ subscription: subId, subscription_details: { items: [{ id: sub.items.data[0].id, price: prices.business.id }] } });
  t.equal(upgraded.total, 10_150, 'a preview of a plan change prices the new seats');
  t.equal(fake.state.invoices.size, 1, 'previews are not stored');
  fake.controls.advanceTime(periodEnd - fake.clock.now());
  const renewed = await stripe.subscriptions.retrieve(subId, { expand: ['latest_invoice'] });
  const invoice = renewed.latest_invoice as Stripe.Invoice;
  t.equal(invoice.billing_reason, 'subscription_cycle');
  t.equal(invoice.total, 4150);
  t.equal(invoice.status, 'paid');
  t.equal(renewed.items.data[0].current_period_start, periodEnd);
  const lines = await stripe.invoices.listLineItems(invoice.id);
  t.same(lines.data.map((l) => l.amount).sort((a, b) => a - b), [150, 4000]);
  const after = await stripe.invoices.createPreview({ customer: customer.id });
  t.equal(after.total, 4000, 'usage starts again from zero in the new period');
  const list = await stripe.invoices.list({ subscription: subId });
  t.equal(list.data.length, 2);
});

t.test('subscriptions: seats change, cancel at period end, cancel now; lists leave canceled ones out', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const { session } = await upgrade(fake, stripe);
  fake.controls.completeCheckoutSession(session.id);
  const subId = (await stripe.checkout.sessions.retrieve(session.id)).subscription as string;
  const sub = await stripe.subscriptions.retrieve(subId);
  const half = await rejection(stripe.subscriptions.update(subId, { items: [{ id: sub.items.data[0].id, quantity: 9 }], cancel_at: fake.clock.now() - 1 }));
  t.equal(half.param, 'cancel_at');
  t.equal((await stripe.subscriptions.retrieve(subId)).items.data[0].quantity, 2, 'a refused update changes nothing');
  const mark = fake.state.events.size;
  const more = await stripe.subscriptions.update(subId, { items: [{ id: sub.items.data[0].id, quantity: 5 }], metadata: { seats: '5' } });
  t.equal(more.items.data[0].quantity, 5);
  const [updated] = [...fake.state.events.values()].slice(mark);
  t.equal(updated.type, 'customer.subscription.updated');
  t.same(Object.keys(updated.data.previous_attributes ?? {}).sort(), ['items', 'metadata']);
  const ending = await stripe.subscriptions.update(subId, { cancel_at_period_end: true, cancellation_details: { feedback: 'too_expensive' } });
  t.equal(ending.cancel_at, sub.items.data[0].current_period_end);
  t.equal(ending.status, 'active', 'runs until the period ends');
  fake.controls.advanceTime(ending.cancel_at! - fake.clock.now());
  const ended = await stripe.subscriptions.retrieve(subId);
  t.equal(ended.status, 'canceled');
  t.equal(ended.cancellation_details?.feedback, 'too_expensive');
  t.equal([...fake.state.events.values()].at(-1)!.type, 'customer.subscription.deleted');
  t.equal((await stripe.subscriptions.list()).data.length, 0, 'list leaves canceled subscriptions out by default');
  t.equal((await stripe.subscriptions.list({ status: 'canceled' })).data.length, 1);
  const frozen = await rejection(stripe.subscriptions.update(subId, { metadata: { x: '1' } }));
  t.equal(frozen.statusCode, 400);
  const dup = await rejection(stripe.subscriptions.update(subId, { items: [{ price: sub.items.data[0].price.id }] }));
  t.equal(dup.statusCode, 400);
  const missing = await rejection(stripe.subscriptions.retrieve('sub_nope'));
  t.equal(missing.message, "No such subscription: 'sub_nope'");
});

t.test('subscriptions.create: no card and no trial is refused; default_incomplete waits, then expires', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const prices = await catalog(stripe);
  const customer = await stripe.customers.create({ email: 'a@example.test' });
  const refused = await rejection(stripe.subscriptions.create({ customer: customer.id, items: [{ price: prices.seat.id }] }));
  t.match(refused.message, /no attached payment source or default payment method/);
  const trial = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: prices.seat.id }], trial_period_days: 3 });
  t.equal(trial.status, 'trialing');
  const pending = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: prices.business.id }], payment_behavior: 'default_incomplete' });
  t.equal(pending.status, 'incomplete');
  fake.controls.advanceTime(DAY);
  t.equal((await stripe.subscriptions.retrieve(pending.id)).status, 'incomplete_expired');
  t.equal((await stripe.invoices.retrieve(pending.latest_invoice as string)).status, 'void');
  fake.controls.setCard(customer.id, 'generic_decline');
  const declined = await rejection(stripe.subscriptions.create({ customer: customer.id, items: [{ price: prices.seat.id }], payment_behavior: 'error_if_incomplete' }));
  t.equal(declined.code, 'card_declined');
  const mixed = await rejection(stripe.subscriptions.create({ customer: customer.id, items: [{ price: prices.seat.id }, { price: (await stripe.prices.create({ product: 'wharf_plan_pro', currency: 'usd', unit_amount: 1, recurring: { interval: 'year' } })).id }], trial_period_days: 3 }));
  t.match(mixed.message, /interval fields must match/);
  const now = await stripe.subscriptions.update(trial.id, { trial_end: 'now' });
  t.equal(now.id, trial.id);
  t.equal((await stripe.subscriptions.retrieve(trial.id)).status, 'past_due', 'the trial ended now and the declining card failed');
  const canceled = await stripe.subscriptions.cancel(trial.id, { cancellation_details: { comment: 'moving on' } });
  t.equal(canceled.status, 'canceled');
  t.equal(canceled.cancellation_details?.comment, 'moving on');
});

t.test('the customer portal: a session for the customer; cancel and plan changes there emit the same events', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const { customer, session, prices } = await upgrade(fake, stripe);
  fake.controls.completeCheckoutSession(session.id);
  const subId = (await stripe.checkout.sessions.retrieve(session.id)).subscription as string;
  const portal = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'https://wharf.example/billing' });
  t.match(portal.url, /^https:\/\/billing\.stripe\.com\/p\/session\/test_/);
  t.equal(portal.return_url, 'https://wharf.example/billing');
  const nobody = await rejection(stripe.billingPortal.sessions.create({ customer: 'cus_nope' }));
  t.equal(nobody.code, 'resource_missing');
  fake.controls.changePriceAsCustomer(subId, prices.seat.id, prices.business.id);
  t.equal((await stripe.subscriptions.retrieve(subId)).items.data[0].price.id, prices.business.id);
  fake.controls.cancelSubscriptionAsCustomer(subId, { feedback: 'switched_service' });
  const sub = await stripe.subscriptions.retrieve(subId);
  t.equal(sub.cancel_at_period_end, true);
  const last = [...fake.state.events.values()].at(-1)!;
  t.equal(last.type, 'customer.subscription.updated');
  t.same(last.data.previous_attributes && 'cancel_at_period_end' in last.data.previous_attributes, true);
  const types = new Set([...fake.state.events.values()].map((e) => e.type));
  t.ok(types.has('billing_portal.session.created'));
});

t.test('invoices by hand: nothing to invoice, draft, finalize, pay out of band, void and delete rules', async (t) => {
  const { stripe } = await fakeStripeWithClient(t);
  const customer = await stripe.customers.create({ email: 'a@example.test' });
  const nothing = await rejection(stripe.invoices.create({ customer: customer.id }));
  t.equal(nothing.code, 'invoice_no_customer_line_items');
  const draft = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'exclude', metadata: { org: 'org-1' } });
  t.equal(draft.status, 'draft');
  const open = await stripe.invoices.finalizeInvoice(draft.id);
  t.equal(open.status, 'open');
  t.match(open.number, /^[A-Z0-9]+-0001$/);
  const refinal = await rejection(stripe.invoices.finalizeInvoice(draft.id));
  t.equal(refinal.code, 'invoice_not_editable');
  const paid = await stripe.invoices.pay(open.id, { paid_out_of_band: true });
  t.equal(paid.status, 'paid');
  const voidPaid = await rejection(stripe.invoices.voidInvoice(open.id));
  t.equal(voidPaid.statusCode, 400);
  const del = await rejection(stripe.invoices.del(open.id));
  t.match(del.message, /only delete draft invoices/);
  const other = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'exclude' });
  t.equal((await stripe.invoices.del(other.id)).deleted, true);
  t.same((await stripe.invoices.search({ query: "metadata['org']:'org-1'" })).data.map((i) => i.id), [open.id]);
  const none = await rejection(stripe.invoices.createPreview({ customer: customer.id }));
  t.equal(none.code, 'invoice_upcoming_none');
});
