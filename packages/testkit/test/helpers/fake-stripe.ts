/** A fake Stripe and a real `stripe` client pointed at it, closed after the test; the test fails if the fake met a request it does not model. */
import { startFakeStripe, type FakeStripe, type FakeStripeOptions } from '@wharf/testkit';
import Stripe from 'stripe';

export async function fakeStripeWithClient(t: { teardown(fn: () => unknown): void }, options: FakeStripeOptions & { client?: Stripe.StripeConfig } = {}): Promise<{ fake: FakeStripe; stripe: Stripe }> {
  const fake = await startFakeStripe(options);
  const stripe = new Stripe(fake.secretKey, { ...fake.clientOptions, ...options.client });
  t.teardown(async () => {
    await fake.close();
    // Fails the test (a teardown may not assert, but may throw).
    if (fake.problems.length > 0) throw new Error(`the fake Stripe met requests it does not model:\n${fake.problems.join('\n')}`);
  });
  return { fake, stripe };
}

/** A request the stripe client would not send, made by hand with the fake's key and version unless overridden. */
export async function rawRequest(
  fake: FakeStripe,
  method: string,
  path: string,
  options: { body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: { error?: { type: string; code?: string; param?: string; message: string } } & Record<string, unknown> }> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${fake.secretKey}`,
    'stripe-version': fake.apiVersion,
    ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': `raw-${Math.random()}` } : {}),
    ...options.headers,
  };
  for (const [k, v] of Object.entries(headers)) if (v === '') delete headers[k];
  const res = await fetch(`${fake.url}${path}`, { method, headers, body: options.body });
  return { status: res.status, headers: res.headers, body: (await res.json()) as never };
}

/** Catches the error a promise rejects with (the test fails if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (err) {
    return err as Stripe.errors.StripeError;
  }
  throw new Error('expected the request to fail, and it succeeded');
}

/** Polls until `condition` holds (bounded, so a broken fake fails the test instead of hanging it). */
export async function waitFor(condition: () => boolean, what = 'condition', timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
