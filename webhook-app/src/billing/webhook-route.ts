/**
 * POST /api/billing/stripe/webhooks: Stripe's events. The signature is checked with `stripe.webhooks.constructEvent`
 * over the exact bytes Stripe sent, within the tolerance window; a bad or missing signature, a timestamp outside the
 * window or a body that is not an event answers 400 and stores nothing. A verified event is stored (its id is
 * unique: a replay is acknowledged and stores nothing) and acknowledged; the worker processes it afterwards, so
 * Stripe never waits on Wharf's work and an event Wharf does not act on is kept and ignored.
 */
import { billing, type DatabasePool } from '@wharf/store';
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type Stripe from 'stripe';

export const STRIPE_WEBHOOK_PATH = '/api/billing/stripe/webhooks';
/** Stripe's events are a few KiB; a megabyte bounds what a stranger can make Wharf read before the signature check. */
export const STRIPE_WEBHOOK_MAX_BYTES = 1024 * 1024;

export interface StripeWebhookRouteOptions {
  pool: DatabasePool;
  stripe: Stripe;
  secret: string;
  toleranceSeconds: number;
  log: Logger;
  /** Called after a new event is stored, to wake the worker. */
  onStored(): void;
}

export function stripeWebhookRoute(options: StripeWebhookRouteOptions): FastifyPluginAsync {
  return async (app) => {
    // Keep the raw bytes: a re-serialized body does not verify.
    const raw = (_req: unknown, body: Buffer | string, done: (err: null, body: Buffer | string) => void) => done(null, body);
    app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: STRIPE_WEBHOOK_MAX_BYTES }, raw);
    app.addContentTypeParser('text/plain', { parseAs: 'buffer', bodyLimit: STRIPE_WEBHOOK_MAX_BYTES }, raw);
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: STRIPE_WEBHOOK_MAX_BYTES }, raw);
    app.post(STRIPE_WEBHOOK_PATH, async (request, reply) => {
      const signature = request.headers['stripe-signature'];
      const body = request.body;
      if (typeof signature !== 'string' || (!Buffer.isBuffer(body) && typeof body !== 'string')) {
        return reply.code(400).send({ error: 'missing Stripe-Signature header or body' });
      }
      let event: Stripe.Event;
      try {
        event = options.stripe.webhooks.constructEvent(body, signature, options.secret, options.toleranceSeconds);
      } catch (err) {
        options.log.warn({ reason: (err as Error).message }, 'stripe webhook refused');
        return reply.code(400).send({ error: 'signature verification failed' });
      }
      if (typeof event?.id !== 'string' || typeof event.type !== 'string' || typeof event.created !== 'number') {
        return reply.code(400).send({ error: 'not a Stripe event' });
      }
      const stored = await billing.recordStripeEvent(options.pool, { id: event.id, type: event.type, created: event.created, livemode: event.livemode === true, payload: event });
      if (stored) options.onStored();
      return reply.code(200).send({ received: true, duplicate: !stored });
    });
  };
}
