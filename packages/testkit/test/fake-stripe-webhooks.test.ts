/**
 * Webhooks as Stripe sends them: signed so that `stripe.webhooks.constructEvent` accepts them (and rejects them
 * tampered or too old), retried until the endpoint answers 2xx, and on request delivered out of order or twice.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signWebhookPayload } from '@wharf/testkit';
import Stripe from 'stripe';
import t from 'tap';
import { fakeStripeWithClient } from './helpers/fake-stripe.js';

interface Received {
  raw: string;
  signature: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A webhook endpoint on loopback that records what it gets and answers `statuses` in turn (then 200). */
async function receiver(t: { teardown(fn: () => unknown): void }, statuses: number[] = []) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ raw: Buffer.concat(chunks).toString('utf8'), signature: String(req.headers['stripe-signature']), headers: req.headers });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/stripe/webhooks`, received };
}

const verifier = new Stripe('sk_test_unused');

t.test('each event arrives signed; constructEvent verifies it and gets the event back', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const hook = await receiver(t);
  const { secret } = fake.webhooks.addEndpoint(hook.url);
  const customer = await stripe.customers.create({ email: 'a@example.test' });
  await fake.webhooks.flush();
  t.equal(hook.received.length, 1);
  const [delivery] = hook.received;
  t.match(delivery.signature, /^t=\d+,v1=[0-9a-f]{64}$/);
  t.equal(delivery.headers['content-type'], 'application/json; charset=utf-8');
  t.match(delivery.headers['user-agent'], /^Stripe\/1\.0/);
  const event = verifier.webhooks.constructEvent(delivery.raw, delivery.signature, secret);
  t.equal(event.type, 'customer.created');
  t.equal(event.api_version, '2026-10-28.endive');
  t.equal((event.data.object as Stripe.Customer).id, customer.id);
  t.equal(event.request?.id, customer.lastResponse.requestId, 'the event names the API request that caused it');
  t.equal(event.request?.idempotency_key, fake.requests[0].idempotencyKey);
  t.equal(event.created, (event.data.object as Stripe.Customer).created, 'the event and its object carry the time it happened');
  const async = await verifier.webhooks.constructEventAsync(Buffer.from(delivery.raw), delivery.signature, secret);
  t.equal(async.id, event.id);
  t.same(fake.webhooks.deliveries.map((d) => [d.type, d.attempt, d.status]), [['customer.created', 1, 200]]);
  t.equal(fake.state.events.get(event.id)?.pending_webhooks, 0);
});

t.test('a tampered payload, a wrong secret and a re-serialized body are rejected', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const hook = await receiver(t);
  const { secret } = fake.webhooks.addEndpoint(hook.url);
  await stripe.customers.create({ email: 'a@example.test' });
  await fake.webhooks.flush();
  const [{ raw, signature }] = hook.received;
  t.throws(() => verifier.webhooks.constructEvent(raw.replace('a@example.test', 'b@example.test'), signature, secret), { message: /No signatures found matching the expected signature/ });
  t.throws(() => verifier.webhooks.constructEvent(raw, signature, 'whsec_not_the_secret'), { message: /No signatures found matching the expected signature/ });
  t.throws(() => verifier.webhooks.constructEvent(JSON.stringify(JSON.parse(raw)), signature, secret), { message: /No signatures found matching the expected signature/ }, 'only the raw body verifies');
  t.equal(signWebhookPayload(raw, secret, Number(/t=(\d+)/.exec(signature)![1])), signature, 'signWebhookPayload is what the fake signs with');
});

t.test('a signature older than the tolerance is rejected', async (t) => {
  const hourAgo = () => Date.now() - 3_600_000;
  const { fake, stripe } = await fakeStripeWithClient(t, { now: hourAgo });
  const hook = await receiver(t);
  const { secret } = fake.webhooks.addEndpoint(hook.url);
  await stripe.customers.create({ email: 'a@example.test' });
  await fake.webhooks.flush();
  const [{ raw, signature }] = hook.received;
  t.throws(() => verifier.webhooks.constructEvent(raw, signature, secret), { message: /Timestamp outside the tolerance zone/ }, 'default tolerance is 300 s');
  t.equal(verifier.webhooks.constructEvent(raw, signature, secret, 7200).type, 'customer.created', 'inside a wider tolerance it verifies');
});

t.test('a non-2xx answer is retried, re-signed, until it is accepted', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const hook = await receiver(t, [500, 400]);
  const { secret } = fake.webhooks.addEndpoint(hook.url);
  await stripe.customers.create({ email: 'a@example.test' });
  await fake.webhooks.flush();
  t.same(fake.webhooks.deliveries.map((d) => [d.attempt, d.status]), [[1, 500], [2, 400], [3, 200]]);
  t.equal(hook.received.length, 3);
  for (const r of hook.received) t.equal(verifier.webhooks.constructEvent(r.raw, r.signature, secret).type, 'customer.created');
  t.equal([...fake.state.events.values()][0].pending_webhooks, 0);
});

t.test('an unreachable endpoint is retried on the schedule, then given up', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t, { webhooks: { retryDelaysMs: [5, 5] } });
  fake.webhooks.addEndpoint('http://127.0.0.1:9/nothing-listens-here');
  await stripe.customers.create({ email: 'a@example.test' });
  await fake.webhooks.flush();
  t.same(fake.webhooks.deliveries.map((d) => [d.attempt, d.status]), [[1, null], [2, null], [3, null]]);
  t.ok(fake.webhooks.deliveries.every((d) => d.error), 'each failure is recorded');
  t.equal([...fake.state.events.values()][0].pending_webhooks, 1, 'still pending, as Stripe shows it');
});

t.test('held deliveries can be released out of order', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const hook = await receiver(t);
  const { secret } = fake.webhooks.addEndpoint(hook.url);
  fake.webhooks.hold();
  const customer = await stripe.customers.create({ email: 'a@example.test' });
  await stripe.customers.update(customer.id, { name: 'First' });
  await stripe.customers.update(customer.id, { name: 'Second' });
  await fake.webhooks.flush();
  t.equal(hook.received.length, 0, 'nothing is sent while held');
  fake.webhooks.release('reverse');
  await fake.webhooks.flush();
  const events = hook.received.map((r) => verifier.webhooks.constructEvent(r.raw, r.signature, secret));
  t.same(events.map((e) => e.type), ['customer.updated', 'customer.updated', 'customer.created']);
  t.same(events.map((e) => (e.data.object as Stripe.Customer).name), ['Second', 'First', null]);
  t.same(events[0].data.previous_attributes, { name: 'First' }, 'previous_attributes say what changed');
  t.ok(events[0].created >= events[1].created, 'a receiver can order them by created');
});

t.test('an event can be delivered twice: the next ones on request, or any one again', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const hook = await receiver(t);
  const { secret } = fake.webhooks.addEndpoint(hook.url);
  fake.webhooks.duplicateNext(1);
  await stripe.customers.create({ email: 'a@example.test' });
  await stripe.customers.create({ email: 'b@example.test' });
  await fake.webhooks.flush();
  const ids = hook.received.map((r) => verifier.webhooks.constructEvent(r.raw, r.signature, secret).id);
  t.equal(ids.length, 3);
  t.equal(ids[0], ids[1], 'the first event twice');
  t.not(ids[2], ids[0]);
  fake.webhooks.redeliver(ids[2]);
  await fake.webhooks.flush();
  t.equal(verifier.webhooks.constructEvent(hook.received[3].raw, hook.received[3].signature, secret).id, ids[2]);
});

t.test('endpoints get only the event types they enabled; the API registers them too', async (t) => {
  const { fake, stripe } = await fakeStripeWithClient(t);
  const all = await receiver(t);
  const some = await receiver(t);
  fake.webhooks.addEndpoint(all.url);
  const created = await stripe.webhookEndpoints.create({ url: some.url, enabled_events: ['product.created'] });
  t.match(created.secret, /^whsec_/, 'the secret is returned once, on create');
  t.equal((await stripe.webhookEndpoints.retrieve(created.id)).secret, undefined);
  // @ts-expect-error not an event type the pinned API knows
  const bad = await stripe.webhookEndpoints.create({ url: some.url, enabled_events: ['customer.exploded'] }).catch((e: Stripe.errors.StripeError) => e);
  t.equal((bad as Stripe.errors.StripeError).param, 'enabled_events[0]');
  await stripe.customers.create({ email: 'a@example.test' });
  await stripe.products.create({ name: 'Pro' });
  await fake.webhooks.flush();
  t.equal(all.received.length, 2);
  t.equal(some.received.length, 1);
  t.equal(verifier.webhooks.constructEvent(some.received[0].raw, some.received[0].signature, created.secret!).type, 'product.created');
  await stripe.webhookEndpoints.update(created.id, { disabled: true });
  await stripe.products.create({ name: 'Business' });
  await fake.webhooks.flush();
  t.equal(some.received.length, 1, 'a disabled endpoint gets nothing');
  const events = await stripe.events.list({ type: 'product.*' });
  t.equal(events.data.length, 2, 'events.list filters by type, with wildcards');
  t.equal((await stripe.events.retrieve(events.data[0].id)).type, 'product.created');
});
