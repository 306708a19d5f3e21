/**
 * webhook_deliveries: every GitHub delivery is stored before it is acknowledged (the delivery id is the primary key,
 * so a redelivery is stored once, unless the first one failed: then it is queued again), then claimed by a worker
 * with SKIP LOCKED, in order per repository. Deliveries arrive before Wharf knows their tenant: the worker records it
 * when it has found it. The worker's claims and the pruning work for every tenant by design.
 */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, parseRows, parseRow } from './rows.js';


export const DELIVERY_STATUSES = ['pending', 'processing', 'done', 'ignored', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface NewDelivery {
  deliveryId: string;
  event: string;
  action: string | null;
  /** The raw JSON text GitHub signed; stored as jsonb. */
  payload: string;
  orderingKey: string | null;
  source?: string;
}

/**
 * JSON text as Postgres' jsonb takes it. jsonb refuses the escape `\u0000` (and text columns refuse NUL), though
 * JSON allows it: it is stored as U+FFFD, so that a payload carrying one is kept instead of refused.
 */
export const storableJson = (text: string): string => (!text.includes('\\u0000') ? text : text.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd'));
/** Free text for a text column: NUL removed. */
const storableText = (text: string): string => text.replace(/\u0000/g, '');

/**
 * Stores several deliveries in one statement (one commit): the webhook route batches concurrent requests so that
 * ingest is not bound by one commit per delivery. Returns the ids that were stored: new ones, and redeliveries of a
 * delivery that had failed (queued again, as if new). Any other redelivery is not stored again.
 */
export async function insertDeliveries(db: CommonQueryMethods, ds: readonly NewDelivery[]): Promise<Set<string>> {
  if (ds.length === 0) return new Set();
  // One row per id: a statement may not insert-or-update the same row twice.
  const unique = [...new Map(ds.map((d) => [d.deliveryId, d])).values()];
  const rows = unique.map((d, n) => ({
    n,
    id: d.deliveryId,
    source: d.source ?? 'github',
    event: d.event,
    action: d.action,
    payload: storableJson(d.payload),
    key: d.orderingKey,
  }));
  const stored = await db
    .any(sql.type(z.object({ delivery_id: z.string() }))`
    INSERT INTO webhook_deliveries (delivery_id, source, event, action, payload, ordering_key)
    SELECT x.id, x.source, x.event, x.action, x.payload::jsonb, x.key
    FROM jsonb_to_recordset(${sql.jsonb(rows)}) AS x(n int, id text, source text, event text, action text, payload text, key text)
    ORDER BY x.n
    ON CONFLICT (delivery_id) DO UPDATE SET status = 'pending', attempts = 0, last_error = NULL, locked_until = NULL,
      next_attempt_at = now(), received_at = now(), processed_at = NULL, payload = EXCLUDED.payload,
      ordering_key = EXCLUDED.ordering_key, seq = DEFAULT
    WHERE webhook_deliveries.status = 'failed'
    RETURNING delivery_id`)
    .then(parseRows(z.object({ delivery_id: z.string() })));
  return new Set(stored.map((r) => r.delivery_id));
}

/** A payload that is not a JSON object (none is stored since the route refuses them) reads as an empty one. */
const PayloadObject = z.unknown().transform((v): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {}));

export const ClaimedDelivery = z.object({
  delivery_id: z.string(),
  event: z.string(),
  action: z.string().nullable(),
  payload: PayloadObject,
  attempts: int8,
  received_at: z.string(),
});
export type ClaimedDelivery = z.infer<typeof ClaimedDelivery>;

/**
 * Claims up to `limit` due deliveries, oldest first, at most one per ordering key: the oldest unfinished delivery of
 * each key (by arrival: `seq`, which also orders the deliveries of one batch), when it is due and no worker holds it
 * (a later one waits for it). A claim is a lease: a worker that dies
 * leaves it to expire and be claimed again. The heads are found with one pass over the index of unfinished deliveries
 * per key, so a backlog of thousands costs one index scan, not a search per delivery.
 */
export async function claimDeliveries(
  db: CommonQueryMethods,
  input: { limit: number; leaseSeconds: number },
): Promise<readonly ClaimedDelivery[]> {
  return db.any(sql.type(ClaimedDelivery)`
    WITH heads AS (
      SELECT DISTINCT ON (ordering_key) delivery_id, status, locked_until, next_attempt_at, seq
      FROM webhook_deliveries
      WHERE status IN ('pending', 'processing') AND ordering_key IS NOT NULL
      ORDER BY ordering_key, seq
    ), due AS (
      SELECT delivery_id, next_attempt_at, seq FROM heads
      WHERE (status = 'pending' OR locked_until < now()) AND next_attempt_at <= now()
      UNION ALL
      SELECT delivery_id, next_attempt_at, seq FROM webhook_deliveries
      WHERE ordering_key IS NULL AND (status = 'pending' OR (status = 'processing' AND locked_until < now())) AND next_attempt_at <= now()
    ), picked AS (
      SELECT w.delivery_id FROM webhook_deliveries w
      JOIN (SELECT delivery_id FROM due ORDER BY next_attempt_at, seq LIMIT ${input.limit}) d USING (delivery_id)
      WHERE w.status = 'pending' OR (w.status = 'processing' AND w.locked_until < now())
      FOR UPDATE OF w SKIP LOCKED
    )
    UPDATE webhook_deliveries w
    SET status = 'processing', attempts = w.attempts + 1, locked_until = now() + make_interval(secs => ${input.leaseSeconds})
    FROM picked c WHERE w.delivery_id = c.delivery_id
    RETURNING w.delivery_id, w.event, w.action, w.payload, w.attempts, w.received_at`).then(parseRows(ClaimedDelivery));
}

export async function finishDelivery(
  db: CommonQueryMethods,
  deliveryId: string,
  input: { status: 'done' | 'ignored' | 'failed'; tenantId?: number | null; error?: string },
): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE webhook_deliveries SET status = ${input.status}, processed_at = now(), locked_until = NULL,
      tenant_id = coalesce(${input.tenantId ?? null}::bigint, tenant_id),
      last_error = ${input.error === undefined ? null : storableText(input.error).slice(0, 2_000)}
    WHERE delivery_id = ${deliveryId}`);
}

/** Finishes several deliveries with one status in one statement (events no handler wants). */
export async function finishDeliveries(db: CommonQueryMethods, deliveryIds: readonly string[], status: 'done' | 'ignored'): Promise<void> {
  if (deliveryIds.length === 0) return;
  await db.query(sql.unsafe`
    UPDATE webhook_deliveries SET status = ${status}, processed_at = now(), locked_until = NULL
    WHERE delivery_id = ANY(${sql.array([...deliveryIds], 'text')})`);
}

/** Puts a delivery back for another attempt after `delaySeconds`. */
export async function retryDelivery(db: CommonQueryMethods, deliveryId: string, delaySeconds: number, error: string): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE webhook_deliveries SET status = 'pending', locked_until = NULL, last_error = ${storableText(error).slice(0, 2_000)},
      next_attempt_at = now() + make_interval(secs => ${delaySeconds})
    WHERE delivery_id = ${deliveryId}`);
}

export const DeliveryRow = z.object({
  delivery_id: z.string(),
  event: z.string(),
  action: z.string().nullable(),
  status: z.enum(DELIVERY_STATUSES),
  attempts: int8,
  last_error: z.string().nullable(),
  tenant_id: int8.nullable(),
});
export type DeliveryRow = z.infer<typeof DeliveryRow>;

export async function getDelivery(db: CommonQueryMethods, deliveryId: string): Promise<DeliveryRow | null> {
  return db.maybeOne(sql.type(DeliveryRow)`
    SELECT delivery_id, event, action, status, attempts, last_error, tenant_id FROM webhook_deliveries WHERE delivery_id = ${deliveryId}`).then(parseRow(DeliveryRow));
}

export async function countDeliveries(db: CommonQueryMethods): Promise<Record<DeliveryStatus, number>> {
  const rows = await db.any(sql.type(z.object({ status: z.enum(DELIVERY_STATUSES), n: int8 }))`
    SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status`).then(parseRows(z.object({ status: z.enum(DELIVERY_STATUSES), n: int8 })));
  const out = { pending: 0, processing: 0, done: 0, ignored: 0, failed: 0 };
  for (const r of rows) out[r.status] = r.n;
  return out;
}

/**
 * Deletes finished deliveries (done, ignored, failed) received more than `days` ago, of every tenant, at most `limit`
 * per call; returns how many. Pending and processing ones are kept whatever their age.
 */
export async function pruneDeliveries(db: CommonQueryMethods, days: number, limit = 10_000): Promise<number> {
  const rows = await db.any(sql.type(z.object({ delivery_id: z.string() }))`
    DELETE FROM webhook_deliveries WHERE delivery_id IN (
      SELECT delivery_id FROM webhook_deliveries WHERE status IN ('done', 'ignored', 'failed')
        AND received_at < now() - make_interval(secs => ${days * 86_400}) LIMIT ${limit})
    RETURNING delivery_id`).then(parseRows(z.object({ delivery_id: z.string() })));
  return rows.length;
}
