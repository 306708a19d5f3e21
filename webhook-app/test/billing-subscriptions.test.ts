/**
 * Catalog sync, Checkout, the customer portal and the subscription state Wharf acts on, end to end: the REST API and
 * the Stripe webhook route on real Postgres, the real `stripe` client against the strict fake Stripe, which
 * completes Checkout, charges cards, moves time and delivers signed events.
 */
import { BILLING_PLANS } from '@wharf/contracts';
import { billing, organizations } from '@wharf/store';
import t from 'tap';
import { createStripeClient, syncCatalog } from '../src/index.js';
import { startBillingHarness } from './helpers/billing-harness.js';

t.test('sync-catalog creates meters, products and prices once; a second run changes nothing; a changed amount replaces the price', async (t) => {
  const h = await startBillingHarness(t);
  const stripe = createStripeClient({ secretKey: h.fake.secretKey, apiUrl: h.fake.url });
  const first = await syncCatalog(stripe);
  t.equal(first.created.length, 5 + 2 + 12, '5 meters, 2 products, 12 prices');
  t.same(first.updated, []);
  const second = await syncCatalog(stripe);
  t.same(second.created, [], 'nothing created the second time');
  t.same(second.updated, [], 'nothing updated the second time');
  t.equal(second.unchanged.length, 19);
  const [seat] = (await stripe.prices.list({ lookup_keys: ['wharf_pro_seat_monthly'] })).data;
  t.equal(seat?.unit_amount, BILLING_PLANS.pro.prices.seat.unitAmount);
  const [hours] = (await stripe.prices.list({ lookup_keys: ['wharf_pro_production_environment_hours'] })).data;
  t.equal(hours?.recurring?.usage_type, 'metered');
  t.ok(hours?.recurring?.meter, 'the metered price is backed by a meter');
  t.equal(hours?.tiers?.[0]?.up_to, BILLING_PLANS.pro.includedUsage.productionEnvironmentHours, 'included hours are the free first tier');
  // Someone edits a product in the dashboard and archives a price: the next sync puts them back.
  await stripe.products.update('wharf_plan_pro', { name: 'Renamed by hand' });
  const old = seat?.id as string;
  await stripe.prices.update(old, { active: false });
  const third = await syncCatalog(stripe);
  t.same(third.updated.sort(), ['price wharf_pro_seat_monthly', 'product wharf_plan_pro']);
  const [now] = (await stripe.prices.list({ lookup_keys: ['wharf_pro_seat_monthly'] })).data;
  t.not(now?.id, old, 'a new price took over the lookup key');
  t.equal(now?.active, true);
  t.same(h.fake.problems, []);
});

t.test('upgrade through Checkout: trial, plan from the webhook, portal; roles; billing off without a key', async (t) => {
  const h = await startBillingHarness(t);
  await syncCatalog(createStripeClient({ secretKey: h.fake.secretKey, apiUrl: h.fake.url }));
  const viewerTries = await h.call('POST', '/api/v1/billing/checkout', { token: h.tokens.viewer, body: { plan: 'pro' } });
  t.equal(viewerTries.status, 403, 'a viewer cannot start Checkout');
  t.equal((await h.call('GET', '/api/v1/billing', { token: h.tokens.viewer })).status, 200, 'a viewer sees the usage view');
  const noPortal = await h.call('POST', '/api/v1/billing/portal', { token: h.tokens.owner });
  t.equal(noPortal.status, 404, 'no portal before there is a customer');
  const enterprise = await h.call('POST', '/api/v1/billing/checkout', { token: h.tokens.owner, body: { plan: 'enterprise' } });
  t.equal(enterprise.status, 400, 'Enterprise is not sold through Checkout');

  const freeView = await h.call('GET', '/api/v1/billing', { token: h.tokens.owner });
  t.equal(freeView.headers['ratelimit-limit'], String(BILLING_PLANS.free.limits.apiRate.requestsPerSecond), "the API's rate is Free's");
  const invite = await h.call('POST', '/api/v1/invitations', { token: h.tokens.owner, body: { role: 'viewer' } });
  t.equal(invite.body.code, 'seat-limit', "Free's one seat is taken: no invitations");
  const checkout = await h.call('POST', '/api/v1/billing/checkout', { token: h.tokens.admin, body: { plan: 'pro', seats: 3 } });
  t.equal(checkout.status, 201, 'an admin starts Checkout');
  t.match(checkout.body.url, /^https:\/\/checkout\.stripe\.com\//);
  const request = h.fake.requests.find((r) => r.endpoint === 'checkout.sessions.create');
  t.equal(request?.params?.client_reference_id, String(h.tenantId), 'the session names the organization');
  t.equal((request?.params?.subscription_data as { trial_period_days?: string })?.trial_period_days, 7, 'a 7-day trial');
  const account = await billing.getBillingAccount(h.db.pool, { tenantId: h.tenantId });
  const customer = await createStripeClient({ secretKey: h.fake.secretKey, apiUrl: h.fake.url }).customers.retrieve(account?.stripe_customer_id as string);
  t.equal((customer as { metadata: Record<string, string> }).metadata.wharf_organization, String(h.tenantId), 'one Stripe customer per organization, with its id');
  const again = await h.call('POST', '/api/v1/billing/checkout', { token: h.tokens.owner, body: { plan: 'business' } });
  t.equal(again.status, 201, 'a second Checkout before paying reuses the customer');
  t.equal(h.fake.requests.filter((r) => r.endpoint === 'customers.create' && !r.replayed).length, 1, 'the customer was created once');
  t.equal((await organizations.getOrganization(h.db.pool, { tenantId: h.tenantId }))?.plan, 'free', 'nothing changes until Stripe says so');

  h.fake.controls.completeCheckoutSession(checkout.body.id);
  await h.settle();
  const view = await h.call('GET', '/api/v1/billing', { token: h.tokens.owner });
  t.equal(view.body.plan, 'pro', 'the plan comes from the subscription the webhook reported');
  t.equal(view.headers['ratelimit-limit'], String(BILLING_PLANS.pro.limits.apiRate.requestsPerSecond), "the API's rate follows the plan at once");
  t.equal((await h.call('POST', '/api/v1/invitations', { token: h.tokens.owner, body: { role: 'viewer' } })).status, 201, "Pro's seats take an invitation");
  t.equal(view.body.status, 'trialing');
  t.ok(view.body.trialEndsAt);
  t.match(view.body.banner, /Trial of Pro ends/);
  t.same(
    view.body.usage.find((u: { limit: string }) => u.limit === 'previewEnvironments'),
    { limit: 'previewEnvironments', used: 0, allowed: BILLING_PLANS.pro.limits.previewEnvironments },
  );
  t.equal(view.body.usage.find((u: { limit: string }) => u.limit === 'seats').used, 3);
  t.ok(view.body.upcomingInvoice, 'the projected invoice from Stripe');
  t.equal(view.body.upcomingInvoice.total, 3 * BILLING_PLANS.pro.prices.seat.unitAmount, 'three seats, no usage yet');

  const subscribed = await h.call('POST', '/api/v1/billing/checkout', { token: h.tokens.owner, body: { plan: 'business' } });
  t.equal(subscribed.status, 409, 'a subscribed organization changes its plan in the portal');
  t.equal(subscribed.body.code, 'already-subscribed');
  const portal = await h.call('POST', '/api/v1/billing/portal', { token: h.tokens.owner, body: { returnUrl: 'https://wharf.example/settings' } });
  t.equal(portal.status, 201);
  t.match(portal.body.url, /^https:\/\/billing\.stripe\.com\//);
  const elsewhere = await h.call('POST', '/api/v1/billing/portal', { token: h.tokens.owner, body: { returnUrl: 'https://evil.example/settings' } });
  t.equal(elsewhere.status, 400, 'Stripe sends the browser back only to this Wharf');

  // The trial ends, the card is charged: active. The customer cancels in the portal at once: back on Free.
  h.fake.controls.advanceTime(8 * 86_400);
  await h.settle();
  t.equal((await h.call('GET', '/api/v1/billing', { token: h.tokens.owner })).body.status, 'active');
  const subId = (await billing.getBillingAccount(h.db.pool, { tenantId: h.tenantId }))?.subscription_id as string;
  h.fake.controls.cancelSubscriptionAsCustomer(subId, { atPeriodEnd: false });
  await h.settle();
  const after = await h.call('GET', '/api/v1/billing', { token: h.tokens.owner });
  t.equal(after.body.plan, 'free');
  t.equal(after.body.status, 'canceled');
  t.same(h.fake.problems, []);
});

t.test('without STRIPE_SECRET_KEY: the usage view answers (Free), Checkout says billing is off', async (t) => {
  const h = await startBillingHarness(t, { env: { STRIPE_SECRET_KEY: '', STRIPE_WEBHOOK_SECRET: '' } });
  const view = await h.call('GET', '/api/v1/billing', { token: h.tokens.owner });
  t.equal(view.status, 200);
  t.equal(view.body.billingEnabled, false);
  t.equal(view.body.plan, 'free');
  t.equal(view.body.upcomingInvoice, null);
  const checkout = await h.call('POST', '/api/v1/billing/checkout', { token: h.tokens.owner, body: { plan: 'pro' } });
  t.equal(checkout.status, 503);
  t.equal(checkout.body.code, 'billing-unavailable');
});
