/**
 * outbox: what the outside world must hear about, inserted in the transaction that decided it (a dedupe key makes a
 * retried write a no-op), and claimed by the drain in order per stream. The drain works for every tenant by design.
 */
import type { OutboxKind } from '@wharf/contracts';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { IdRow, int8, jsonb, parseRow, parseRows } from './rows.js';
import type { TenantScope } from './scope.js';

export interface NewOutboxRow {
  tenantId: number;
  environmentId: number | null;
  kind: OutboxKind;
  payload: Record<string, unknown>;
  dedupeKey: string;
}

/** The reconciler's rows (deployment statuses), many in one statement. */
export async function insertOutboxRows(db: CommonQueryMethods, rows: readonly NewOutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(sql.unsafe`
    INSERT INTO outbox (tenant_id, environment_id, kind, payload, dedupe_key)
    SELECT x."tenantId", x."environmentId", x.kind, x.payload, x."dedupeKey"
    FROM jsonb_to_recordset(${sql.jsonb(rows as never)}) AS x("tenantId" bigint, "environmentId" bigint, kind text, payload jsonb, "dedupeKey" text)
    ON CONFLICT (dedupe_key) DO NOTHING`);
}

export interface OutboxItem {
  tenantId: number;
  environmentId?: number | null;
  kind: OutboxKind;
  payload: object;
  /** Rows of one stream are delivered in order; null orders by environment. */
  stream: string | null;
  /** A row with a key that was ever queued is not queued again. */
  dedupeKey?: string | null;
  /** Skip the row when the stream already has a row waiting that has not been tried yet (e.g. "refresh the comment"). */
  coalesce?: boolean;
}

/** Queues one row; false when it was deduplicated or coalesced away. */
export async function enqueue(db: CommonQueryMethods, item: OutboxItem): Promise<boolean> {
  const guard = item.coalesce
    ? sql.fragment`WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE stream = ${item.stream} AND kind = ${item.kind}
        AND delivered_at IS NULL AND attempts = 0 AND locked_until IS NULL)`
    : sql.fragment``;
  const row = await db
    .maybeOne(sql.type(IdRow)`
    INSERT INTO outbox (tenant_id, environment_id, kind, payload, dedupe_key, stream)
    SELECT ${item.tenantId}, ${item.environmentId ?? null}, ${item.kind}, ${jsonb(item.payload)}, ${item.dedupeKey ?? null}, ${item.stream}
    ${guard}
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id`)
    .then(parseRow(IdRow));
  return row !== null;
}

export const ClaimedOutboxRow = z.object({
  id: int8,
  tenant_id: int8,
  environment_id: int8.nullable(),
  kind: z.string(),
  payload: z.record(z.unknown()),
  stream: z.string().nullable(),
  attempts: int8,
  created_at: z.string(),
});
export type ClaimedOutboxRow = z.infer<typeof ClaimedOutboxRow>;

/**
 * Claims due rows of the given kinds, of every tenant, at most the head of each stream (or, for rows without a
 * stream, of each environment): a row waits until every earlier row of its stream was delivered, so a retried
 * failure keeps order.
 */
export async function claimOutbox(
  db: CommonQueryMethods,
  input: { kinds: readonly OutboxKind[]; limit: number; leaseSeconds: number },
): Promise<readonly ClaimedOutboxRow[]> {
  return db
    .any(sql.type(ClaimedOutboxRow)`
    WITH c AS (
      SELECT o.id FROM outbox o
      WHERE o.delivered_at IS NULL AND o.next_attempt_at <= now() AND (o.locked_until IS NULL OR o.locked_until < now())
        AND o.kind = ANY(${sql.array([...input.kinds], 'text')})
        AND NOT EXISTS (
          SELECT 1 FROM outbox p WHERE p.delivered_at IS NULL AND p.id < o.id AND (
            (o.stream IS NOT NULL AND p.stream = o.stream)
            OR (o.stream IS NULL AND o.environment_id IS NOT NULL AND p.stream IS NULL AND p.environment_id = o.environment_id)))
      ORDER BY o.id
      LIMIT ${input.limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE outbox SET locked_until = now() + make_interval(secs => ${input.leaseSeconds}), attempts = outbox.attempts + 1
    FROM c WHERE outbox.id = c.id
    RETURNING outbox.id, outbox.tenant_id, outbox.environment_id, outbox.kind, outbox.payload, outbox.stream, outbox.attempts,
      outbox.created_at`)
    .then(parseRows(ClaimedOutboxRow));
}

export async function markDelivered(db: CommonQueryMethods, id: number, note?: string): Promise<void> {
  await db.query(sql.unsafe`UPDATE outbox SET delivered_at = now(), locked_until = NULL, last_error = ${note ?? null} WHERE id = ${id}`);
}

export async function retryOutbox(db: CommonQueryMethods, id: number, delaySeconds: number, error: string): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE outbox SET locked_until = NULL, last_error = ${error}, next_attempt_at = now() + make_interval(secs => ${delaySeconds})
    WHERE id = ${id}`);
}

/** True when a later row of the same stream waits: an intermediate state may then be skipped. */
export async function hasLaterRowInStream(db: CommonQueryMethods, id: number, stream: string): Promise<boolean> {
  return db.oneFirst(sql.type(z.object({ x: z.boolean() }))`
    SELECT EXISTS (SELECT 1 FROM outbox WHERE stream = ${stream} AND id > ${id} AND delivered_at IS NULL) AS x`);
}

/** True when a later row for the same environment waits: an intermediate status may then be skipped. */
export async function hasLaterRowForEnvironment(db: CommonQueryMethods, id: number, environmentId: number, kind: OutboxKind): Promise<boolean> {
  return db.oneFirst(sql.type(z.object({ x: z.boolean() }))`
    SELECT EXISTS (SELECT 1 FROM outbox WHERE environment_id = ${environmentId} AND kind = ${kind} AND id > ${id} AND delivered_at IS NULL) AS x`);
}

/** Rows of these kinds not delivered yet, of every tenant (settling tests, the drain's gauge). */
export async function countPendingOutbox(db: CommonQueryMethods, kinds: readonly OutboxKind[]): Promise<number> {
  return db.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM outbox WHERE delivered_at IS NULL AND kind = ANY(${sql.array([...kinds], 'text')})`);
}

export const OutboxRow = z.object({
  id: int8,
  tenant_id: int8,
  environment_id: int8.nullable(),
  kind: z.string(),
  payload: z.record(z.unknown()),
  dedupe_key: z.string().nullable(),
  created_at: z.string(),
});
export type OutboxRow = z.infer<typeof OutboxRow>;

/** What was queued for an environment, oldest first. */
export async function listOutboxForEnvironment(db: CommonQueryMethods, scope: TenantScope, environmentId: number): Promise<readonly OutboxRow[]> {
  return db
    .any(sql.type(OutboxRow)`
    SELECT id, tenant_id, environment_id, kind, payload, dedupe_key, created_at
    FROM outbox WHERE tenant_id = ${scope.tenantId} AND environment_id = ${environmentId} ORDER BY id`)
    .then(parseRows(OutboxRow));
}
