/**
 * Customers, the catalog (products, prices by lookup key, meters) and meter events against the fake, with the
 * real client; the plan table in contracts is synced into it the way catalog sync will do it.
 */
import { BILLING_PLAN_IDS, BILLING_PLANS, billingPriceLookupKeys, TRIAL_DAYS_MAX, USAGE_METRIC_NAMES, USAGE_METRICS, type BillingPlanId } from '@wharf/contracts';
import Stripe from 'stripe';
import t from 'tap';
import { fakeStripeWithClient, rawRequest, rejection } from './helpers/fake-stripe.js';

t.test('customers: create, retrieve, update, list by email, search by metadata, delete', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const a = await stripe.customers.create({ email: 'a@example.test', name: 'A', metadata: { tenant: 't-a' } });
  const b = await stripe.customers.create({ email: 'b@example.test', metadata: { tenant: 't-b' } });
  t.equal((await stripe.customers.retrieve(a.id)).id, a.id);
  const updated = await stripe.customers.update(a.id, { name: 'A Corp', metadata: { plan: 'pro' } });
  t.same(updated.metadata, { tenant: 't-a', plan: 'pro' }, 'metadata keys merge');
  t.same((await stripe.customers.list({ email: 'b@example.test' })).data.map((c) => c.id), [b.id]);
  const found = await stripe.customers.search({ query: "metadata['tenant']:'t-a'" });
  t.same(found.data.map((c) => c.id), [a.id]);
  t.equal(found.object, 'search_result');
  t.same((await stripe.customers.search({ query: "email~'example' AND -metadata['tenant']:'t-a'" })).data.map((c) => c.id), [b.id]);
  const unsupported = await rejection(stripe.customers.search({ query: "city:'Berlin'" }));
  t.equal(unsupported.param, 'query');
  t.match(unsupported.message, /Field `city` is an unsupported search field for resource `customers`/);
  const del = await stripe.customers.del(b.id);
  t.same(del, { id: b.id, object: 'customer', deleted: true, lastResponse: del.lastResponse });
  const gone = await stripe.customers.retrieve(b.id);
  t.equal(gone.deleted, true, 'a deleted customer retrieves as deleted, as on Stripe');
  const types = [...fake.state.events.values()].map((e) => e.type);
  t.same(types, ['customer.created', 'customer.created', 'customer.updated', 'customer.deleted']);
});

t.test('resource_missing: 404 with type, code, param, message and request id as Stripe sends them', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const err = await rejection(stripe.customers.retrieve('cus_nope'));
  t.equal(err.type, 'StripeInvalidRequestError');
  t.equal(err.statusCode, 404);
  t.equal(err.code, 'resource_missing');
  t.equal(err.param, 'id');
  t.equal(err.message, "No such customer: 'cus_nope'");
  t.equal(err.doc_url, 'https://docs.stripe.com/error-codes/resource-missing');
  t.match(err.requestId, /^req_/);
  const raw = await rawRequest(fake, 'GET', '/v1/customers/cus_nope');
  t.same(Object.keys(raw.body.error ?? {}).sort(), ['code', 'doc_url', 'message', 'param', 'request_log_url', 'type']);
  t.equal(raw.headers.get('request-id'), fake.requests.at(-1)?.requestId);
});

t.test('lists page newest first with limit, starting_after and ending_before', async (t) => {
  const { stripe } = await fakeStripeWithClient(t);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await stripe.products.create({ name: `P${i}` })).id);
  const first = await stripe.products.list({ limit: 2 });
  t.same(first.data.map((p) => p.id), [ids[4], ids[3]]);
  t.equal(first.has_more, true);
  const next = await stripe.products.list({ limit: 2, starting_after: ids[3] });
  t.same(next.data.map((p) => p.id), [ids[2], ids[1]]);
  const back = await stripe.products.list({ limit: 2, ending_before: ids[1] });
  t.same(back.data.map((p) => p.id), [ids[3], ids[2]]);
  const all: string[] = [];
  for await (const p of stripe.products.list({ limit: 2 })) all.push(p.id);
  t.same(all, [...ids].reverse(), "the client's auto-pagination walks the whole list");
  const bad = await rejection(stripe.products.list({ limit: 101 }));
  t.equal(bad.param, 'limit');
  const missing = await rejection(stripe.products.list({ starting_after: 'prod_nope' }));
  t.equal(missing.code, 'resource_missing');
});

t.test('the plan table is sane: trials at most 7 days, unique lookup keys, rate tiers', async (t) => {
  const keys = billingPriceLookupKeys();
  t.equal(new Set(keys).size, keys.length, 'lookup keys are unique');
  t.equal(keys.length, 12, 'a seat price and five metered prices for each of Pro and Business');
  for (const id of BILLING_PLAN_IDS) t.ok(BILLING_PLANS[id].trialDays <= TRIAL_DAYS_MAX, `${id} trial ≤ ${TRIAL_DAYS_MAX} days`);
  t.equal(BILLING_PLANS.free.limits.apiRate.requestsPerSecond, 10);
  t.equal(BILLING_PLANS.pro.limits.apiRate.requestsPerSecond, 100);
  t.equal(BILLING_PLANS.free.prices, null, 'Free needs no card and no Stripe price');
  const ordered = BILLING_PLAN_IDS.map((id) => BILLING_PLANS[id].limits.productionEnvironments ?? Infinity);
  t.same([...ordered].sort((a, b) => a - b), ordered, 'each plan allows at least what the one below does');
});

/** What catalog sync will do: meters by event name, products by id, prices by lookup key; twice is a no-op. */
async function syncCatalog(stripe: Stripe): Promise<{ created: number }> {
  let created = 0;
  const meters = new Map<string, Stripe.Billing.Meter>();
  for await (const m of stripe.billing.meters.list({ status: 'active' })) meters.set(m.event_name, m);
  for (const metric of USAGE_METRIC_NAMES) {
    const { meterEventName, displayName } = USAGE_METRICS[metric];
    if (meters.has(meterEventName)) continue;
    meters.set(meterEventName, await stripe.billing.meters.create({ display_name: displayName, event_name: meterEventName, default_aggregation: { formula: 'sum' } }));
    created++;
  }
  for (const id of BILLING_PLAN_IDS) {
    const plan = BILLING_PLANS[id];
    if (!plan.prices || !plan.stripeProductId) continue;
    const prices = plan.prices;
    const product = await stripe.products.retrieve(plan.stripeProductId).catch(async () => {
      created++;
      return stripe.products.create({ id: plan.stripeProductId!, name: `Wharf ${plan.name}`, description: plan.description, metadata: { wharf_plan: id } });
    });
    const keys = [prices.seat.lookupKey, ...USAGE_METRIC_NAMES.map((m) => prices.usage[m].lookupKey)];
    const existing = new Set((await stripe.prices.list({ lookup_keys: keys.slice(0, 10), limit: 100 })).data.map((p) => p.lookup_key));
    for (const p of (await stripe.prices.list({ lookup_keys: keys.slice(10), limit: 100 })).data) existing.add(p.lookup_key);
    if (!existing.has(prices.seat.lookupKey)) {
      await stripe.prices.create({ product: product.id, currency: prices.currency, unit_amount: prices.seat.unitAmount, recurring: { interval: prices.interval }, lookup_key: prices.seat.lookupKey, nickname: `${plan.name} seat` });
      created++;
    }
    for (const metric of USAGE_METRIC_NAMES) {
      const usage = prices.usage[metric];
      if (existing.has(usage.lookupKey)) continue;
      const included = plan.includedUsage[metric] ?? 0;
      await stripe.prices.create({
        product: product.id,
        currency: prices.currency,
        billing_scheme: 'tiered',
        tiers_mode: 'graduated',
        tiers: [
          { up_to: included, unit_amount: 0 },
          { up_to: 'inf', unit_amount_decimal: Stripe.Decimal.from(usage.unitAmountDecimal) },
        ],
        recurring: { interval: prices.interval, usage_type: 'metered', meter: meters.get(USAGE_METRICS[metric].meterEventName)!.id },
        lookup_key: usage.lookupKey,
      });
      created++;
    }
  }
  return { created };
}

t.test('the plan catalog syncs into Stripe by lookup key, idempotently', async (t) => {
  const { stripe } = await fakeStripeWithClient(t);
  t.same(await syncCatalog(stripe), { created: 5 + 2 + 12 }, '5 meters, 2 products, 12 prices');
  t.same(await syncCatalog(stripe), { created: 0 }, 'a second run finds everything by lookup key and creates nothing');
  const [seat] = (await stripe.prices.list({ lookup_keys: ['wharf_pro_seat_monthly'], expand: ['data.product'] })).data;
  t.equal(seat.unit_amount, 2000);
  t.equal((seat.product as Stripe.Product).id, 'wharf_plan_pro');
  const [hours] = (await stripe.prices.list({ lookup_keys: ['wharf_pro_production_environment_hours'] })).data;
  t.equal(hours.recurring?.usage_type, 'metered');
  t.equal(hours.tiers?.[0].up_to, BILLING_PLANS.pro.includedUsage.productionEnvironmentHours);
  t.equal(String(hours.tiers?.[1].unit_amount_decimal), '1', 'decimals come back as the client\'s Decimal');
});

t.test('lookup keys are unique; transfer_lookup_key moves one to a new price', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const product = await stripe.products.create({ name: 'Pro' });
  const old = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' }, lookup_key: 'wharf_pro_seat_monthly' });
  const clash = await rejection(stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 2500, recurring: { interval: 'month' }, lookup_key: 'wharf_pro_seat_monthly' }));
  t.equal(clash.param, 'lookup_key');
  t.match(clash.message, /already uses that lookup key/);
  const next = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 2500, recurring: { interval: 'month' }, lookup_key: 'wharf_pro_seat_monthly', transfer_lookup_key: true });
  t.equal((await stripe.prices.retrieve(old.id)).lookup_key, null);
  t.same((await stripe.prices.list({ lookup_keys: ['wharf_pro_seat_monthly'] })).data.map((p) => p.id), [next.id]);
  await stripe.prices.update(old.id, { active: false });
  t.same((await stripe.prices.search({ query: "active:'true' AND product:'" + product.id + "'" })).data.map((p) => p.id), [next.id]);
  t.ok([...fake.state.events.values()].some((e) => e.type === 'price.updated' && (e.data.previous_attributes as { lookup_key?: string })?.lookup_key === 'wharf_pro_seat_monthly'));
});

t.test('prices are checked as Stripe checks them', async (t) => {
  const { stripe } = await fakeStripeWithClient(t);
  const product = await stripe.products.create({ name: 'Pro' });
  const noMeter = await rejection(stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 1, recurring: { interval: 'month', usage_type: 'metered' } }));
  t.equal(noMeter.code, 'parameter_missing');
  t.equal(noMeter.param, 'recurring[meter]', 'metered prices are backed by a meter in this API version');
  const noAmount = await rejection(stripe.prices.create({ product: product.id, currency: 'usd', recurring: { interval: 'month' } }));
  t.equal(noAmount.param, 'unit_amount');
  const both = await rejection(stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 1, unit_amount_decimal: Stripe.Decimal.from('1.5') }));
  t.match(both.message, /only specify one of these parameters: unit_amount, unit_amount_decimal/);
  const noProduct = await rejection(stripe.prices.create({ product: 'prod_nope', currency: 'usd', unit_amount: 1 }));
  t.equal(noProduct.param, 'product');
  t.equal(noProduct.code, 'resource_missing');
  const inline = await stripe.prices.create({ product_data: { name: 'Inline' }, currency: 'usd', unit_amount: 1 });
  t.equal((await stripe.products.retrieve(inline.product as string)).name, 'Inline');
  const taken = await rejection(stripe.products.create({ id: product.id, name: 'again' }));
  t.equal(taken.code, 'resource_already_exists');
  const inUse = await rejection(stripe.products.del(inline.product as string));
  t.match(inUse.message, /cannot be deleted because it has one or more user-created prices/);
});

async function meterSetup(t: Parameters<typeof fakeStripeWithClient>[0], plan: BillingPlanId = 'pro') {
  const { fake, stripe } = await fakeStripeWithClient(t);
  void plan;
  const meter = await stripe.billing.meters.create({ display_name: 'Deploys', event_name: USAGE_METRICS.deploys.meterEventName, default_aggregation: { formula: 'sum' } });
  const customer = await stripe.customers.create({ email: 'org@example.test', metadata: { tenant: 'org-1' } });
  return { fake, stripe, meter, customer };
}

t.test('meters: one active meter per event name; deactivate and reactivate', async (t) => {
  const { stripe, meter } = await meterSetup(t);
  t.match(meter.id, /^mtr_test_/);
  t.same(meter.customer_mapping, { event_payload_key: 'stripe_customer_id', type: 'by_id' });
  const dup = await rejection(stripe.billing.meters.create({ display_name: 'Again', event_name: meter.event_name, default_aggregation: { formula: 'sum' } }));
  t.equal(dup.param, 'event_name');
  t.equal((await stripe.billing.meters.deactivate(meter.id)).status, 'inactive');
  t.equal((await stripe.billing.meters.list({ status: 'active' })).data.length, 0);
  t.equal((await stripe.billing.meters.reactivate(meter.id)).status, 'active');
  t.equal((await stripe.billing.meters.update(meter.id, { display_name: 'Deploys (all)' })).display_name, 'Deploys (all)');
});

t.test('meter events: an identifier counts once; a repeat is refused as Stripe refuses it', async (t) => {
  const { fake, stripe, meter, customer } = await meterSetup(t);
  const hour = Math.floor(fake.clock.now() / 3600) * 3600 - 3600;
  const event = await stripe.billing.meterEvents.create({ event_name: meter.event_name, identifier: 'org-1:deploys:h1', timestamp: hour + 60, payload: { stripe_customer_id: customer.id, value: '3' } });
  t.equal(event.identifier, 'org-1:deploys:h1');
  t.equal(event.object, 'billing.meter_event');
  const dup = await rejection(stripe.billing.meterEvents.create({ event_name: meter.event_name, identifier: 'org-1:deploys:h1', timestamp: hour + 60, payload: { stripe_customer_id: customer.id, value: '3' } }));
  t.equal(dup.statusCode, 400);
  t.equal(dup.type, 'StripeInvalidRequestError');
  t.equal(dup.message, 'An event already exists with identifier org-1:deploys:h1.');
  t.equal(dup.headers?.['stripe-should-retry'], 'false', 'the client does not retry it');
  // The same request retried with its Idempotency-Key is a replay of the first answer, not a duplicate.
  const params = { event_name: meter.event_name, identifier: 'org-1:deploys:h2', timestamp: hour + 120, payload: { stripe_customer_id: customer.id, value: '2' } };
  await stripe.billing.meterEvents.create(params, { idempotencyKey: 'me-h2' });
  const replay = await stripe.billing.meterEvents.create(params, { idempotencyKey: 'me-h2' });
  t.equal(replay.lastResponse.headers['idempotent-replayed'], 'true');
  const [summary] = (await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: hour, end_time: hour + 3600 })).data;
  t.equal(summary.aggregated_value, 5, 'each identifier counted exactly once');
  t.equal(fake.state.meterEvents.length, 2);
  fake.clock.advance(24 * 3600 + 1);
  await stripe.billing.meterEvents.create({ event_name: meter.event_name, identifier: 'org-1:deploys:h1', payload: { stripe_customer_id: customer.id, value: '1' } });
  t.equal(fake.state.meterEvents.length, 3, 'uniqueness holds for 24 hours');
});

t.test('meter events: timestamps within 35 days back and 5 minutes ahead; unusable events are reported, not counted', async (t) => {
  const { fake, stripe, meter, customer } = await meterSetup(t);
  const now = fake.clock.now();
  const old = await rejection(stripe.billing.meterEvents.create({ event_name: meter.event_name, timestamp: now - 36 * 86_400, payload: { stripe_customer_id: customer.id, value: '1' } }));
  t.equal(old.param, 'timestamp');
  const ahead = await rejection(stripe.billing.meterEvents.create({ event_name: meter.event_name, timestamp: now + 600, payload: { stripe_customer_id: customer.id, value: '1' } }));
  t.equal(ahead.param, 'timestamp');
  await stripe.billing.meterEvents.create({ event_name: 'no_such_meter', payload: { stripe_customer_id: customer.id, value: '1' } });
  await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: 'cus_nope', value: '1' } });
  await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { value: '1' } });
  await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: 'many' } });
  t.same(fake.state.meterEventErrors.map((e) => e.message.split(':')[0]), ['no_meter', 'meter_event_customer_not_found', 'meter_event_no_customer_defined', 'meter_event_invalid_value']);
  t.equal(fake.state.meterEvents.length, 0);
  const long = await rejection(stripe.billing.meterEvents.create({ event_name: meter.event_name, identifier: 'x'.repeat(101), payload: { value: '1' } }));
  t.equal(long.param, 'identifier');
});

t.test('event summaries: whole range or per hour, on aligned boundaries', async (t) => {
  const { fake, stripe, meter, customer } = await meterSetup(t);
  const h0 = Math.floor(fake.clock.now() / 3600) * 3600 - 3 * 3600;
  for (const [i, value] of [[0, 4], [0, 1], [2, 7]]) {
    await stripe.billing.meterEvents.create({ event_name: meter.event_name, timestamp: h0 + i * 3600 + 30, payload: { stripe_customer_id: customer.id, value: String(value) } });
  }
  const whole = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: h0, end_time: h0 + 3 * 3600 });
  t.same(whole.data.map((s) => s.aggregated_value), [12]);
  const hourly = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: h0, end_time: h0 + 3 * 3600, value_grouping_window: 'hour' });
  t.same(hourly.data.map((s) => [s.start_time - h0, s.aggregated_value]), [[7200, 7], [0, 5]], 'hours with usage, newest first');
  const misaligned = await rejection(stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: h0 + 30, end_time: h0 + 3600, value_grouping_window: 'hour' }));
  t.equal(misaligned.param, 'start_time');
  const minute = await rejection(stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: h0 + 1, end_time: h0 + 3600 }));
  t.equal(minute.param, 'start_time');
  const nobody = await rejection(stripe.billing.meters.listEventSummaries(meter.id, { customer: 'cus_nope', start_time: h0, end_time: h0 + 3600 }));
  t.equal(nobody.code, 'resource_missing');
});
