/**
 * The fake Stripe checks every request as Stripe does: key, version, path, parameters (from the stripe package's
 * own declarations) and their form encoding, Idempotency-Key on POSTs; and answers with Stripe's error shapes.
 */
import { loadEndpointIndex } from '../src/fake-stripe/endpoint-table.js';
import { handlers } from '../src/fake-stripe/handlers/index.js';
import Stripe from 'stripe';
import t from 'tap';
import { fakeStripeWithClient, rawRequest, rejection } from './helpers/fake-stripe.js';

t.test('the client talks to the fake through host/port/protocol, with the pinned version and a key', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  t.equal(fake.apiVersion, '2026-10-28.endive');
  t.equal(fake.stripeVersion, '23.1.0');
  const customer = await stripe.customers.create({ email: 'ops@example.test', metadata: { tenant: 't1' } });
  t.match(customer.id, /^cus_/);
  t.equal(customer.email, 'ops@example.test');
  t.same(customer.metadata, { tenant: 't1' });
  t.equal(customer.livemode, false);
  t.match(customer.lastResponse.requestId, /^req_/);
  const [rec] = fake.requests;
  t.equal(rec.endpoint, 'customers.create');
  t.same(rec.params, { email: 'ops@example.test', metadata: { tenant: 't1' } }, 'metadata[tenant]=t1 decoded as a nested object');
  t.match(rec.idempotencyKey, /^stripe-node-retry-/, 'the client keyed its POST');
});

t.test('the generated table covers the modelled resources and every handler is reachable', async (t) => {
  const index = loadEndpointIndex();
  const ids = new Map(index.endpoints.map((e) => [e.id, e]));
  t.ok(index.endpoints.length > 600, `${index.endpoints.length} endpoints listed`);
  for (const id of Object.keys(handlers)) {
    t.ok(ids.get(id)?.params, `${id} is in the table with its parameters`);
  }
  t.same(index.match('GET', '/v1/customers/search')?.endpoint.id, 'customers.search', 'a literal path beats /v1/customers/{id}');
  t.same(index.match('GET', '/v1/customers/cus_1')?.pathParams, { id: 'cus_1' });
  t.equal(index.match('PUT', '/v1/customers'), null);
});

t.test('a missing or wrong API key is 401; a live key is never accepted', async (t) => {
  const { fake } = await fakeStripeWithClient(t);
  const missing = await rawRequest(fake, 'GET', '/v1/customers', { headers: { authorization: '' } });
  t.equal(missing.status, 401);
  t.match(missing.body.error?.message, /You did not provide an API key/);
  const wrong = new Stripe('sk_test_somebody_else_1234', fake.clientOptions);
  const err = await rejection(wrong.customers.list());
  t.equal(err.type, 'StripeAuthenticationError');
  t.equal(err.statusCode, 401);
  t.match(err.message, /Invalid API Key provided: sk_test_\*+1234/);
  t.rejects(import('@wharf/testkit').then((m) => m.startFakeStripe({ secretKey: 'sk_live_nope' })), /test-mode secret keys/);
});

t.test('Stripe-Version must be the version the package pins', async (t) => {
  const { fake } = await fakeStripeWithClient(t);
  const missing = await rawRequest(fake, 'GET', '/v1/customers', { headers: { 'stripe-version': '' } });
  t.equal(missing.status, 400);
  t.match(missing.body.error?.message, /Missing Stripe-Version header: pin apiVersion 2026-10-28\.endive/);
  const old = new Stripe(fake.secretKey, { ...fake.clientOptions, apiVersion: '2024-06-20' as Stripe.LatestApiVersion });
  const err = await rejection(old.customers.list());
  t.equal(err.statusCode, 400);
  t.match(err.message, /Invalid Stripe API version: 2024-06-20/);
});

t.test('an unknown path or method is 404 "Unrecognized request URL"', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const res = await rawRequest(fake, 'GET', '/v1/customerz');
  t.equal(res.status, 404);
  t.equal(res.body.error?.type, 'invalid_request_error');
  t.match(res.body.error?.message, /^Unrecognized request URL \(GET: \/v1\/customerz\)/);
  t.ok(res.headers.get('request-id')?.startsWith('req_'));
  const put = await rawRequest(fake, 'PUT', '/v1/customers');
  t.equal(put.status, 404);
  const raw = await rejection(stripe.rawRequest('GET', '/v1/nothing_here'));
  t.equal(raw.statusCode, 404);
});

t.test('a parameter the typings would not allow is refused with parameter_unknown', async (t) => {
  const { stripe } = await fakeStripeWithClient(t);
  // @ts-expect-error `tenant` is not a CustomerCreateParams field: the fake refuses what the types refuse.
  const top = await rejection(stripe.customers.create({ email: 'a@example.test', tenant: 't1' }));
  t.equal(top.type, 'StripeInvalidRequestError');
  t.equal(top.code, 'parameter_unknown');
  t.equal(top.param, 'tenant');
  t.equal(top.message, 'Received unknown parameter: tenant');
  t.equal(top.statusCode, 400);
  // @ts-expect-error `zip` is not an AddressParam field.
  const nested = await rejection(stripe.customers.create({ address: { line1: 'x', zip: '1' } }));
  t.equal(nested.param, 'address[zip]');
  const inArray = await rejection(
    // @ts-expect-error `amount` is not a checkout line item field.
    stripe.checkout.sessions.create({ mode: 'subscription', line_items: [{ price: 'price_1', quantity: 1, amount: 5 }] }),
  );
  t.equal(inArray.param, 'line_items[0][amount]', 'arrays of objects are encoded and checked as items[0][field]');
});

t.test('missing, empty, mistyped and out-of-enum parameters get Stripe\'s errors', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  // @ts-expect-error event_name and payload are required.
  const missing = await rejection(stripe.billing.meterEvents.create({}));
  t.equal(missing.code, 'parameter_missing');
  t.equal(missing.param, 'event_name');
  t.equal(missing.message, 'Missing required param: event_name.');
  const empty = await rejection(stripe.customers.create({ email: '' }));
  t.equal(empty.code, 'parameter_invalid_empty');
  t.equal(empty.param, 'email');
  // @ts-expect-error balance is a number.
  const integer = await rejection(stripe.customers.create({ balance: 'lots' }));
  t.equal(integer.code, 'parameter_invalid_integer');
  t.equal(integer.message, 'Invalid integer: lots');
  // The typings allow any string here (the client's forward-compatibility escape); the pinned version does not.
  const en = await rejection(stripe.customers.create({ tax_exempt: 'sometimes' }));
  t.equal(en.param, 'tax_exempt');
  t.equal(en.message, 'Invalid tax_exempt: must be one of exempt, none, or reverse');
  const tooMany = await rejection(stripe.customers.create({ metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }));
  t.match(tooMany.message, /Metadata can have up to 50 keys, but you passed in 51 keys/);
  const longValue = await rejection(stripe.customers.create({ metadata: { k: 'x'.repeat(501) } }));
  t.equal(longValue.param, 'metadata[k]');
  const unset = await stripe.customers.create({ metadata: { a: '1', b: '2' } });
  const updated = await stripe.customers.update(unset.id, { metadata: { a: '' } });
  t.same(updated.metadata, { b: '2' }, "metadata[a]='' unsets one key, as Stripe documents");
  t.same((await stripe.customers.update(unset.id, { metadata: '' })).metadata, {}, "metadata='' unsets them all");
  t.equal(fake.requests.filter((r) => r.status === 400).length, 6);
});

t.test('expand works in both encodings the API accepts, and only on expandable fields', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const product = await stripe.products.create({ name: 'Pro' });
  const price = await stripe.prices.create({ currency: 'usd', product: product.id, unit_amount: 2000, recurring: { interval: 'month' } });
  const expanded = await stripe.prices.retrieve(price.id, { expand: ['product'] });
  t.equal((expanded.product as Stripe.Product).name, 'Pro', 'expand[0]=product (the client) replaces the id');
  const bracket = await rawRequest(fake, 'GET', `/v1/prices/${price.id}?expand[]=product`);
  t.equal((bracket.body.product as { name: string }).name, 'Pro', 'expand[]=product works too');
  const list = await stripe.prices.list({ expand: ['data.product'] });
  t.equal((list.data[0].product as Stripe.Product).id, product.id);
  const bad = await rejection(stripe.prices.retrieve(price.id, { expand: ['currency'] }));
  t.equal(bad.message, 'This property cannot be expanded (currency).');
});

t.test('form bodies are checked: content type, encoding, array indices, where parameters go', async (t) => {
  const { fake } = await fakeStripeWithClient(t);
  const json = await rawRequest(fake, 'POST', '/v1/customers', { body: '{"email":"a@b.c"}', headers: { 'content-type': 'application/json' } });
  t.equal(json.status, 400);
  t.match(json.body.error?.message, /unsupported Content-Type application\/json/);
  const gap = await rawRequest(fake, 'GET', '/v1/prices?lookup_keys[0]=a&lookup_keys[2]=b');
  t.equal(gap.status, 400);
  t.equal(gap.body.error?.param, 'lookup_keys');
  const twice = await rawRequest(fake, 'POST', '/v1/customers', { body: 'email=a%40b.c&email=d%40e.f' });
  t.equal(twice.status, 400);
  const percent = await rawRequest(fake, 'POST', '/v1/customers', { body: 'email=%E0%A4%A' });
  t.equal(percent.status, 400);
  const query = await rawRequest(fake, 'POST', '/v1/customers?email=a%40b.c', { body: '' });
  t.equal(query.status, 400);
  const deep = await rawRequest(fake, 'POST', '/v1/customers', { body: `metadata${'[a]'.repeat(12)}=1` });
  t.equal(deep.status, 400);
  const ok = await rawRequest(fake, 'POST', '/v1/customers', { body: 'email=a%40b.c&preferred_locales[]=en&preferred_locales[]=fr' });
  t.equal(ok.status, 200);
  t.same(ok.body.preferred_locales, ['en', 'fr']);
});

t.test('a POST without an Idempotency-Key is refused', async (t) => {
  const { fake } = await fakeStripeWithClient(t);
  const res = await rawRequest(fake, 'POST', '/v1/customers', { body: 'email=a%40b.c', headers: { 'idempotency-key': '' } });
  t.equal(res.status, 400);
  t.match(res.body.error?.message, /without an Idempotency-Key/);
  t.equal(fake.state.customers.size, 0, 'nothing was created');
  const long = await rawRequest(fake, 'POST', '/v1/customers', { body: 'email=a%40b.c', headers: { 'idempotency-key': 'k'.repeat(256) } });
  t.equal(long.status, 400);
});

t.test('an endpoint Stripe has but the fake does not model answers 501 and is listed in problems', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const err = await rejection(stripe.coupons.create({ percent_off: 10, duration: 'once' }));
  t.equal(err.statusCode, 501);
  t.equal(err.type, 'StripeAPIError');
  t.match(fake.problems[0], /coupons\.create/);
  const param = await rejection(stripe.customers.create({ tax_id_data: [{ type: 'eu_vat', value: 'DE123' }] }));
  t.equal(param.statusCode, 501, 'a parameter the fake ignores would make a test lie: it is refused');
  t.equal(fake.problems.length, 2);
  fake.problems.length = 0;
});

t.test('request bodies are bounded', async (t) => {
  const { fake } = await fakeStripeWithClient(t);
  const res = await rawRequest(fake, 'POST', '/v1/customers', { body: `description=${'x'.repeat(1024 * 1024 + 1)}` });
  t.equal(res.status, 413);
  const many = await rawRequest(fake, 'POST', '/v1/customers', { body: Array.from({ length: 5001 }, (_, i) => `metadata[k${i}]=1`).join('&') });
  t.equal(many.status, 400);
  const longString = await rawRequest(fake, 'POST', '/v1/customers', { body: `description=${'x'.repeat(5001)}` });
  t.equal(longString.status, 400);
  t.equal(longString.body.error?.param, 'description');
});
