/**
 * The Stripe webhook route against hostile and unlucky input: bad and stale signatures store nothing; unknown types
 * are stored and ignored; replays change nothing twice; events in reverse order end in Stripe's current state; a
 * subscription of a customer Wharf never made is flagged without stopping the others.
 */
import { billing, audit, organizations } from '@wharf/store';
import Stripe from 'stripe';
import t from 'tap';
import { createStripeClient, STRIPE_WEBHOOK_PATH, syncCatalog } from '../src/index.js';
import { startBillingHarness, type BillingHarness } from './helpers/billing-harness.js';

async function post(h: BillingHarness, payload: string, signature: string | null, contentType = 'application/json') {
  const res = await fetch(h.webhookUrl, { method: 'POST', headers: { 'content-type': contentType, ...(signature ? { 'stripe-signature': signature } : {}) }, body: payload });
  return res.status;
}

const event = (id: string, type: string, object: Record<string, unknown> = { id: 'x', object: 'thing' }) =>
  JSON.stringify({ id, object: 'event', api_version: '2026-10-28.endive', created: Math.floor(Date.now() / 1000), livemode: false, type, data: { object: object }, pending_webhooks: 1, request: null });

t.test('bad signatures, stale signatures and non-events answer 400 and store nothing', async (t) => {
  const h = await startBillingHarness(t);
  const payload = event('evt_bad_1', 'customer.subscription.updated');
  const sign = (body: string, opts: { secret?: string; timestamp?: number } = {}) =>
    Stripe.webhooks.generateTestHeaderString({ payload: body, secret: opts.secret ?? h.webhookSecret, ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}) });
  t.equal(await post(h, payload, null), 400, 'no signature');
  t.equal(await post(h, payload, 't=1,v1=deadbeef'), 400, 'garbage signature');
  t.equal(await post(h, payload, sign(payload, { secret: 'whsec_someone_else' })), 400, 'signed with another secret');
  t.equal(await post(h, payload, sign(payload.replace('evt_bad_1', 'evt_bad_2'))), 400, 'tampered body');
  t.equal(await post(h, JSON.stringify(JSON.parse(payload), null, 2), sign(payload)), 400, 're-serialized JSON does not verify');
  t.equal(await post(h, payload, sign(payload, { timestamp: Math.floor(Date.now() / 1000) - 3600 })), 400, 'an hour old: outside the 300 s tolerance');
  const notJson = 'not json at all';
  t.equal(await post(h, notJson, sign(notJson)), 400, 'signed, but not an event');
  const big = JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 10) });
  t.equal(await post(h, big, sign(big)), 413, 'a body over 1 MiB is refused before anything else');
  t.same(await billing.listStripeEvents(h.db.pool), [], 'nothing was stored');
  t.equal(await post(h, payload, sign(payload)), 200, 'the same event, signed now, is accepted');
  t.equal(await post(h, payload, sign(payload), 'text/plain'), 200, 'whatever content type it is sent with');
  t.equal((await billing.listStripeEvents(h.db.pool)).length, 1);
});

t.test('a fake Stripe whose clock is an hour behind signs outside the tolerance: every delivery is refused, nothing stored', async (t) => {
  const h = await startBillingHarness(t, { fake: { now: () => Date.now() - 3_600_000, webhooks: { retryDelaysMs: [] } } });
  const stripe = createStripeClient({ secretKey: h.fake.secretKey, apiUrl: h.fake.url });
  await stripe.customers.create({ name: 'late' });
  await h.fake.webhooks.flush();
  t.ok(h.fake.webhooks.deliveries.length > 0);
  t.ok(h.fake.webhooks.deliveries.every((d) => d.status === 400), 'every delivery answered 400');
  t.same(await billing.listStripeEvents(h.db.pool), []);
});

t.test('unknown types are stored and ignored; replays are processed once; reverse order ends in the current state', async (t) => {
  const h = await startBillingHarness(t);
  const stripe = createStripeClient({ secretKey: h.fake.secretKey, apiUrl: h.fake.url });
  await syncCatalog(stripe);
  await h.settle();
  const stored = await billing.listStripeEvents(h.db.pool);
  t.ok(stored.length >= 19, 'catalog events (meters, products, prices) were stored');
  t.ok(stored.every((e) => e.processed && e.outcome === 'ignored'), 'and acknowledged and ignored: Wharf does not act on them');

  const checkout = await h.call('POST', '/api/v1/billing/checkout', { token: h.tokens.owner, body: { plan: 'pro' } });
  t.equal(checkout.status, 201);
  // Stripe sends everything twice, and in reverse order.
  h.fake.webhooks.hold();
  h.fake.webhooks.duplicateNext(50);
  h.fake.controls.completeCheckoutSession(checkout.body.id);
  h.fake.webhooks.release('reverse');
  await h.settle();
  const account = await billing.getBillingAccount(h.db.pool, { tenantId: h.tenantId });
  t.equal(account?.status, 'trialing', 'the state is what Stripe says now, whatever order the events came in');
  t.equal((await organizations.getOrganization(h.db.pool, { tenantId: h.tenantId }))?.plan, 'pro');
  const ids = h.fake.webhooks.deliveries.filter((d) => d.status === 200).map((d) => d.eventId);
  t.ok(ids.length > new Set(ids).size, 'events were delivered more than once');
  const rows = await billing.listStripeEvents(h.db.pool);
  t.equal(rows.length, new Set(rows.map((r) => r.id)).size, 'each event stored once');
  t.ok(rows.every((r) => r.processed && r.attempts === 1), 'and processed once');
  const changes = (await audit.listAudit(h.db.pool, { tenantId: h.tenantId }, { limit: 1000 })).filter((a) => a.action === 'billing.change').length;
  t.equal(changes, 1, 'one plan change in the audit log (free → pro, trialing)');
  const updated = h.fake.webhooks.deliveries.find((d) => d.type === 'customer.subscription.created');
  if (updated) h.fake.webhooks.redeliver(updated.eventId);
  await h.settle();
  t.equal((await audit.listAudit(h.db.pool, { tenantId: h.tenantId }, { limit: 1000 })).filter((a) => a.action === 'billing.change').length, 1, 'a redelivery changes nothing');

  // A late, stale "active" after the subscription was deleted does not resurrect it.
  const subId = account?.subscription_id as string;
  h.fake.webhooks.hold();
  h.fake.controls.cancelSubscriptionAsCustomer(subId, { atPeriodEnd: false });
  h.fake.webhooks.release('as-created');
  await h.settle();
  t.equal((await billing.getBillingAccount(h.db.pool, { tenantId: h.tenantId }))?.status, 'canceled');
  const created = h.fake.webhooks.deliveries.find((d) => d.type === 'customer.subscription.created');
  if (created) {
    // The stored copy is processed already: send the same content as a new event id, as if Stripe had lagged.
    const original = [...h.fake.state.events.values()].find((e) => e.id === created.eventId);
    const late = JSON.stringify({ ...original, id: 'evt_late_copy' });
    t.equal(await post(h, late, Stripe.webhooks.generateTestHeaderString({ payload: late, secret: h.webhookSecret })), 200);
    await h.settle();
    t.equal((await billing.getBillingAccount(h.db.pool, { tenantId: h.tenantId }))?.status, 'canceled', 'an older event re-fetches: still canceled');
    t.equal((await organizations.getOrganization(h.db.pool, { tenantId: h.tenantId }))?.plan, 'free');
  } else {
    t.fail('the fake sent customer.subscription.created');
  }
  t.same(h.fake.problems, []);
});

t.test('a subscription of a customer Wharf does not know is flagged and logged; the next events still work', async (t) => {
  const h = await startBillingHarness(t);
  const stripe = createStripeClient({ secretKey: h.fake.secretKey, apiUrl: h.fake.url });
  await syncCatalog(stripe);
  const stranger = await stripe.customers.create({ name: 'made in the dashboard' });
  const [price] = (await stripe.prices.list({ lookup_keys: ['wharf_pro_seat_monthly'] })).data;
  h.fake.controls.setCard(stranger.id, 'succeeds');
  await stripe.subscriptions.create({ customer: stranger.id, items: [{ price: price?.id as string, quantity: 1 }], trial_period_days: 3 });
  await h.settle();
  const flagged = await billing.listStripeEvents(h.db.pool, { outcome: 'flagged' });
  t.ok(flagged.length >= 1, 'flagged');
  t.match(flagged[0]?.flag ?? '', /customer Wharf does not know \(cus_/);
  const checkout = await h.call('POST', '/api/v1/billing/checkout', { token: h.tokens.owner, body: { plan: 'pro' } });
  h.fake.controls.completeCheckoutSession(checkout.body.id);
  await h.settle();
  t.equal((await organizations.getOrganization(h.db.pool, { tenantId: h.tenantId }))?.plan, 'pro', 'the organization upgrades all the same');
});

t.test('the route path is the documented one', async (t) => {
  t.equal(STRIPE_WEBHOOK_PATH, '/api/billing/stripe/webhooks');
});
