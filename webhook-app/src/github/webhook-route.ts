/**
 * POST /api/github/webhooks: verify the signature over the raw bytes, store the delivery, answer. Nothing is
 * processed here: a 2xx means "stored" (a redelivery of a stored id is acknowledged and not stored again, unless the
 * stored one failed: then it is queued again), a 401 means the signature is missing or wrong (nothing stored), a 400
 * a request GitHub would not send, a 503 that the store is unavailable (GitHub shows the delivery as failed and it
 * can be redelivered).
 */
import { deliveries, type DatabasePool, isInvalidDataError } from '@wharf/store';
import type { FastifyPluginAsync } from 'fastify';
import type { Counter, Histogram } from 'prom-client';
import { type ReceiveResult, UNVERIFIED_EVENT } from './metrics.js';

/** GitHub caps webhook payloads at 25 MB; larger requests are refused before they are read. */
export const WEBHOOK_BODY_LIMIT_BYTES = 26_214_400;
/** X-GitHub-Delivery is a GUID and X-GitHub-Event a short name; anything longer is not from GitHub. */
const MAX_HEADER_CHARS = 200;

export interface WebhookRouteOptions {
  path: string;
  pool: DatabasePool;
  verifySignature(body: string, signature: string): Promise<boolean>;
  /** Called after a new delivery is stored, to wake the worker. */
  onStored(): void;
  metrics: { received: Counter<'event' | 'result'>; storeSeconds: Histogram<string>; eventLabel(event: string): string };
}

/** Deliveries of one repository (or installation) are processed in the order GitHub sent them. */
export function orderingKey(payload: Record<string, unknown>): string | null {
  const installation = (payload.installation as { id?: number } | undefined)?.id;
  const repo = (payload.repository as { full_name?: string } | undefined)?.full_name;
  if (installation === undefined) return repo ?? null;
  return repo ? `${installation}:${repo}` : String(installation);
}

/** A delivery Postgres refuses to store for its content (not for being unavailable). */
export class UnstorableDeliveryError extends Error {
  override readonly name = 'UnstorableDeliveryError';
}

/**
 * Stores a batch; when Postgres refuses it for its content, stores each half on its own, down to the one delivery it
 * refuses: one poisoned delivery never fails the rest of its batch. Returns, per delivery id, whether it was stored,
 * or why it cannot be.
 */
async function storeIsolated(pool: DatabasePool, batch: readonly deliveries.NewDelivery[]): Promise<Map<string, boolean | Error>> {
  const out = new Map<string, boolean | Error>();
  try {
    const stored = await deliveries.insertDeliveries(pool, batch);
    for (const d of batch) if (!out.has(d.deliveryId)) out.set(d.deliveryId, stored.has(d.deliveryId));
    return out;
  } catch (err) {
    if (!isInvalidDataError(err)) throw err;
    if (batch.length === 1) {
      out.set(batch[0]?.deliveryId ?? '', new UnstorableDeliveryError((err as Error).message));
      return out;
    }
    const half = Math.ceil(batch.length / 2);
    for (const part of [batch.slice(0, half), batch.slice(half)]) {
      for (const [id, r] of await storeIsolated(pool, part)) if (!out.has(id) || r instanceof Error) out.set(id, r);
    }
    return out;
  }
}

interface Pending {
  delivery: deliveries.NewDelivery;
  resolve: (stored: boolean) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: deliveries that arrive while a batch is being stored go into the next one, so one commit (one
 * fsync) stores many. Each request still waits until its own delivery is committed before it is answered.
 * One batch in flight by default: every statement costs Postgres a parse, a plan and a commit whatever its size,
 * so fewer, larger batches cost less CPU per delivery (bench webhook-ingest at 300/s, back to back: 1,121-1,263
 * deliveries per CPU-second with one in flight against 934-1,000 with four), and CPU is what the intake runs out of
 * first on a shared machine. A batch of 200 commits in tens of milliseconds, far above GitHub's rates.
 */
export function createDeliveryBatcher(pool: DatabasePool, options: { maxBatch?: number; maxInFlight?: number } = {}) {
  const queue: Pending[] = [];
  let inFlight = 0;
  const maxBatch = options.maxBatch ?? 200;
  const maxInFlight = options.maxInFlight ?? 1;
  const flush = async (): Promise<void> => {
    if (inFlight >= maxInFlight || queue.length === 0) return;
    inFlight += 1;
    const batch = queue.splice(0, maxBatch);
    try {
      const results = await storeIsolated(
        pool,
        batch.map((b) => b.delivery),
      );
      const seen = new Set<string>();
      for (const b of batch) {
        const result = results.get(b.delivery.deliveryId) ?? false;
        if (result instanceof Error) b.reject(result);
        else b.resolve(!seen.has(b.delivery.deliveryId) && result);
        seen.add(b.delivery.deliveryId);
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
    app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: WEBHOOK_BODY_LIMIT_BYTES }, (_req, body, done) => done(null, body));
    app.post(options.path, { bodyLimit: WEBHOOK_BODY_LIMIT_BYTES }, async (request, reply) => {
      const { received } = options.metrics;
      const count = (event: string, result: ReceiveResult) => received.inc({ event, result });
      const event = header(request.headers['x-github-event']);
      const deliveryId = header(request.headers['x-github-delivery']);
      const signature = header(request.headers['x-hub-signature-256']);
      const body = typeof request.body === 'string' ? request.body : '';
      if (!signature || !(await options.verifySignature(body, signature))) {
        count(UNVERIFIED_EVENT, 'bad_signature');
        request.log.warn({ deliveryId: deliveryId?.slice(0, MAX_HEADER_CHARS), event: event?.slice(0, MAX_HEADER_CHARS) }, 'webhook signature missing or wrong');
        return reply.code(401).send({ error: 'signature does not match the webhook secret' });
      }
      if (!event || !deliveryId || event.length > MAX_HEADER_CHARS || deliveryId.length > MAX_HEADER_CHARS) {
        count(event ? options.metrics.eventLabel(event) : UNVERIFIED_EVENT, 'bad_request');
        return reply.code(400).send({ error: `X-GitHub-Event and X-GitHub-Delivery headers are required (at most ${MAX_HEADER_CHARS} characters each)` });
      }
      const label = options.metrics.eventLabel(event);
      let payload: unknown;
      try {
        payload = JSON.parse(body);
      } catch {
        payload = undefined;
      }
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
        count(label, 'bad_request');
        return reply.code(400).send({ error: 'body is not a JSON object' });
      }
      const fields = payload as Record<string, unknown>;
      const stop = options.metrics.storeSeconds.startTimer();
      let stored: boolean;
      try {
        stored = await store({
          deliveryId,
          event,
          action: typeof fields.action === 'string' ? fields.action.slice(0, MAX_HEADER_CHARS) : null,
          payload: body,
          orderingKey: orderingKey(fields),
        });
      } catch (err) {
        if (err instanceof UnstorableDeliveryError) {
          count(label, 'unstorable');
          request.log.warn({ err, deliveryId, event }, 'webhook delivery refused by the database');
          return reply.code(400).send({ error: `delivery cannot be stored: ${err.message}` });
        }
        count(label, 'store_failed');
        request.log.error({ err, deliveryId, event }, 'webhook delivery could not be stored');
        return reply.code(503).send({ error: 'delivery could not be stored; redeliver later' });
      } finally {
        stop();
      }
      count(label, stored ? 'stored' : 'duplicate');
      if (stored) options.onStored();
      return reply.code(stored ? 202 : 200).send({ delivery: deliveryId, stored });
    });
  };
}
