/**
 * POST /api/github/webhooks: verify the signature over the raw bytes, store the delivery, answer. Nothing is
 * processed here: a 2xx means "stored" (a redelivery of a stored id is acknowledged and not stored again), a 401
 * means the signature is missing or wrong (nothing stored), a 503 means the store is unavailable (GitHub shows the
 * delivery as failed and it can be redelivered).
 */
import { deliveries, type DatabasePool } from '@wharf/store';
import type { FastifyPluginAsync } from 'fastify';
import type { Counter, Histogram } from 'prom-client';

export interface WebhookRouteOptions {
  path: string;
  pool: DatabasePool;
  verifySignature(body: string, signature: string): Promise<boolean>;
  /** Called after a new delivery is stored, to wake the worker. */
  onStored(): void;
  metrics: { received: Counter<'event' | 'result'>; storeSeconds: Histogram<string> };
}

/** Deliveries of one repository (or installation) are processed in the order GitHub sent them. */
export function orderingKey(payload: Record<string, unknown>): string | null {
  const installation = (payload.installation as { id?: number } | undefined)?.id;
  const repo = (payload.repository as { full_name?: string } | undefined)?.full_name;
  if (installation === undefined) return repo ?? null;
  return repo ? `${installation}:${repo}` : String(installation);
}

interface Pending {
  delivery: deliveries.NewDelivery;
  resolve: (stored: boolean) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: deliveries that arrive while a batch is being stored go into the next one, so one commit (one
 * fsync) stores many. Each request still waits until its own delivery is committed before it is answered.
 */
export function createDeliveryBatcher(pool: DatabasePool, options: { maxBatch?: number; maxInFlight?: number } = {}) {
  const queue: Pending[] = [];
  let inFlight = 0;
  const maxBatch = options.maxBatch ?? 200;
  const maxInFlight = options.maxInFlight ?? 4;
  const flush = async (): Promise<void> => {
    if (inFlight >= maxInFlight || queue.length === 0) return;
    inFlight += 1;
    const batch = queue.splice(0, maxBatch);
    try {
      const stored = await deliveries.insertDeliveries(pool, batch.map((b) => b.delivery));
      const seen = new Set<string>();
      for (const b of batch) {
        const first = !seen.has(b.delivery.deliveryId);
        seen.add(b.delivery.deliveryId);
        b.resolve(first && stored.has(b.delivery.deliveryId));
      }
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      inFlight -= 1;
      void flush();
    }
  };
  return (delivery: deliveries.NewDelivery): Promise<boolean> =>
    new Promise((resolve, reject) => {
      queue.push({ delivery, resolve, reject });
      void flush();
    });
}

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

export function webhookRoute(options: WebhookRouteOptions): FastifyPluginAsync {
  const store = createDeliveryBatcher(options.pool);
  return async (app) => {
    // Keep the exact bytes GitHub signed; Fastify's JSON parser would re-serialize them.
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    app.post(options.path, async (request, reply) => {
      const { received } = options.metrics;
      const event = header(request.headers['x-github-event']);
      const deliveryId = header(request.headers['x-github-delivery']);
      const signature = header(request.headers['x-hub-signature-256']);
      const body = typeof request.body === 'string' ? request.body : '';
      if (!signature || !(await options.verifySignature(body, signature))) {
        received.inc({ event: event ?? 'unknown', result: 'bad_signature' });
        request.log.warn({ deliveryId, event }, 'webhook signature missing or wrong');
        return reply.code(401).send({ error: 'signature does not match the webhook secret' });
      }
      if (!event || !deliveryId) {
        received.inc({ event: event ?? 'unknown', result: 'bad_request' });
        return reply.code(400).send({ error: 'X-GitHub-Event and X-GitHub-Delivery headers are required' });
      }
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(body) as Record<string, unknown>;
      } catch {
        received.inc({ event, result: 'bad_request' });
        return reply.code(400).send({ error: 'body is not JSON' });
      }
      const stop = options.metrics.storeSeconds.startTimer();
      let stored: boolean;
      try {
        stored = await store({
          deliveryId,
          event,
          action: typeof payload.action === 'string' ? payload.action : null,
          payload: body,
          orderingKey: orderingKey(payload),
        });
      } catch (err) {
        received.inc({ event, result: 'store_failed' });
        request.log.error({ err, deliveryId, event }, 'webhook delivery could not be stored');
        return reply.code(503).send({ error: 'delivery could not be stored; redeliver later' });
      } finally {
        stop();
      }
      received.inc({ event, result: stored ? 'stored' : 'duplicate' });
      if (stored) options.onStored();
      return reply.code(stored ? 202 : 200).send({ delivery: deliveryId, stored });
    });
  };
}
