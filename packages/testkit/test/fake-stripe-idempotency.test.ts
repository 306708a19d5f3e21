/**
 * Idempotent requests as Stripe keeps them, and the failures billing must survive: 500s, 429 with Retry-After,
 * slow answers, a dropped response after the request executed, and Stripe being unreachable.
 */
import Stripe from 'stripe';
import t from 'tap';
import { fakeStripeWithClient, rawRequest, rejection, waitFor } from './helpers/fake-stripe.js';

t.test('a reused key with the same parameters replays the first answer; nothing runs twice', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const params = { email: 'billing@example.test', metadata: { tenant: 't1' } };
  const first = await stripe.customers.create(params, { idempotencyKey: 'create-t1' });
  const again = await stripe.customers.create({ metadata: { tenant: 't1' }, email: 'billing@example.test' }, { idempotencyKey: 'create-t1' });
  t.equal(again.id, first.id, 'same customer, parameters compared regardless of order');
  t.equal(fake.state.customers.size, 1);
  t.equal(again.lastResponse.headers['idempotent-replayed'], 'true');
  t.equal(again.lastResponse.headers['original-request'], first.lastResponse.requestId);
  t.not(again.lastResponse.requestId, first.lastResponse.requestId, 'the replay has its own request id');
  t.equal([...fake.state.events.values()].filter((e) => e.type === 'customer.created').length, 1, 'one customer.created event');
});

t.test('a reused key with other parameters or on another endpoint is an idempotency_error', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  await stripe.customers.create({ email: 'a@example.test' }, { idempotencyKey: 'k1' });
  const other = await rejection(stripe.customers.create({ email: 'b@example.test' }, { idempotencyKey: 'k1' }));
  t.equal(other.type, 'StripeIdempotencyError');
  t.equal(other.statusCode, 400);
  t.match(other.message, /Keys for idempotent requests can only be used with the same parameters they were first used with\. Try using a key other than 'k1'/);
  const endpoint = await rejection(stripe.products.create({ name: 'x' }, { idempotencyKey: 'k1' }));
  t.equal(endpoint.type, 'StripeIdempotencyError');
  t.match(endpoint.message, /can only be used for the same endpoint they were first used for \('POST \/v1\/customers' vs 'POST \/v1\/products'\)/);
  t.equal(fake.state.customers.size, 1);
  t.equal(fake.state.products.size, 0);
});

t.test('errors raised while executing are replayed too; refusals before executing are not kept', async (t) => {
  const { stripe } = await fakeStripeWithClient(t);
  const missing = await rejection(stripe.customers.update('cus_nope', { name: 'x' }, { idempotencyKey: 'u1' }));
  t.equal(missing.statusCode, 404);
  const replayed = await rejection(stripe.customers.update('cus_nope', { name: 'x' }, { idempotencyKey: 'u1' }));
  t.equal(replayed.statusCode, 404);
  t.equal(replayed.headers?.['idempotent-replayed'], 'true');
  // @ts-expect-error an unknown parameter is refused before the request executes.
  const invalid = await rejection(stripe.customers.create({ emial: 'a@example.test' }, { idempotencyKey: 'c1' }));
  t.equal(invalid.code, 'parameter_unknown');
  const fixed = await stripe.customers.create({ email: 'a@example.test' }, { idempotencyKey: 'c1' });
  t.equal(fixed.email, 'a@example.test', 'the same key works once the parameters are fixed');
});

t.test('keys expire after 24 hours', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const first = await stripe.customers.create({ email: 'a@example.test' }, { idempotencyKey: 'day' });
  fake.clock.advance(24 * 3600 + 1);
  const later = await stripe.customers.create({ email: 'a@example.test' }, { idempotencyKey: 'day' });
  t.not(later.id, first.id);
});

t.test('500s: the client retries with the same key and the request executes once', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t, { client: { maxNetworkRetries: 2 } });
  fake.inject({ fault: { kind: 'server-error' }, endpoint: 'customers.create', times: 2 });
  const customer = await stripe.customers.create({ email: 'a@example.test' });
  t.equal(fake.state.customers.size, 1);
  const attempts = fake.requests.filter((r) => r.endpoint === 'customers.create');
  t.same(attempts.map((r) => r.status), [500, 500, 200]);
  t.equal(new Set(attempts.map((r) => r.idempotencyKey)).size, 1, 'every retry carried the same Idempotency-Key');
  t.ok(customer.id);
  fake.inject({ fault: { kind: 'server-error', status: 503 } });
  const once = new Stripe(fake.secretKey, fake.clientOptions);
  const err = await rejection(once.customers.list());
  t.equal(err.type, 'StripeAPIError');
  t.equal(err.statusCode, 503);
});

t.test('429 carries Retry-After and the rate_limit code', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  fake.inject({ fault: { kind: 'rate-limit', retryAfterSeconds: 7 }, endpoint: 'billing.meterEvents.create' });
  await stripe.customers.list();
  const err = await rejection(stripe.billing.meterEvents.create({ event_name: 'x', payload: { value: '1' } }));
  t.equal(err.type, 'StripeRateLimitError');
  t.equal(err.statusCode, 429);
  t.equal(err.code, 'rate_limit');
  t.equal(err.headers?.['retry-after'], '7');
  t.equal(fake.state.meterEventIdentifiers.size, 0, 'nothing was recorded');
});

t.test('a slow answer trips the client timeout; the request still ran, and a retry with the key replays it', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t, { client: { timeout: 100 } });
  fake.inject({ fault: { kind: 'slow', delayMs: 400 }, endpoint: 'customers.create' });
  const err = await rejection(stripe.customers.create({ email: 'slow@example.test' }, { idempotencyKey: 'slow-1' }));
  t.equal(err.type, 'StripeConnectionError');
  t.match(err.message, /timeout/);
  await waitFor(() => fake.requests.some((r) => r.endpoint === 'customers.create' && r.status === 200));
  t.equal(fake.state.customers.size, 1, 'Stripe executed it anyway');
  const retry = await stripe.customers.create({ email: 'slow@example.test' }, { idempotencyKey: 'slow-1' });
  t.equal(retry.lastResponse.headers['idempotent-replayed'], 'true');
  t.equal(fake.state.customers.size, 1);
});

t.test('a response lost after the request executed: the retry with the same key gets the original answer', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t, { client: { maxNetworkRetries: 1 } });
  fake.inject({ fault: { kind: 'drop-response' }, endpoint: 'customers.create' });
  const customer = await stripe.customers.create({ email: 'crash@example.test' });
  t.equal(fake.state.customers.size, 1, 'created once');
  const attempts = fake.requests.filter((r) => r.endpoint === 'customers.create');
  t.same(attempts.map((r) => [r.status, r.replayed]), [[0, false], [200, true]]);
  t.equal(customer.id, [...fake.state.customers.keys()][0]);
});

t.test('Stripe down: connections are refused until it comes back on the same address', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  await fake.setDown(true);
  const err = await rejection(stripe.customers.list());
  t.equal(err.type, 'StripeConnectionError');
  await fake.setDown(false);
  const list = await stripe.customers.list();
  t.equal(list.data.length, 0);
  const res = await rawRequest(fake, 'GET', '/v1/customers');
  t.equal(res.status, 200);
});
