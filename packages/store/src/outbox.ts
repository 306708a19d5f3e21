/**
 * outbox: what the outside world must hear about, inserted in the transaction that decided it (a dedupe key makes a
 * retried write a no-op), and claimed by the drain in order per stream, the most urgent stream of each tenant first
 * (`priority`, 0 first). The drain works for every tenant by design.
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
  /** 0 is sent first; default 2. A stream is as urgent as its most urgent waiting row. */
  priority?: number;
}

/** Queues one row; false when it was deduplicated or coalesced away. */
export async function enqueue(db: CommonQueryMethods, item: OutboxItem): Promise<boolean> {
  const guard = item.coalesce
    ? sql.fragment`WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE stream = ${item.stream} AND kind = ${item.kind}
        AND delivered_at IS NULL AND attempts = 0 AND locked_until IS NULL)`
    : sql.fragment``;
  const row = await db
    .maybeOne(sql.type(IdRow)`
    INSERT INTO outbox (tenant_id, environment_id, kind, payload, dedupe_key, stream, priority, prepared_at)
    SELECT ${item.tenantId}, ${item.environmentId ?? null}, ${item.kind}, ${jsonb(item.payload)}, ${item.dedupeKey ?? null}, ${item.stream},
      ${item.priority ?? 2}, now()
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
  priority: int8,
});
export type ClaimedOutboxRow = z.infer<typeof ClaimedOutboxRow>;

/**
 * Claims due rows of the given kinds, of every tenant: for each tenant (except `skipTenants`, say ones GitHub asked
 * to wait), the head of its most urgent stream (a stream, or for rows without one an environment, is as urgent as its
 * most urgent waiting row; ties go to the oldest). A row waits until every earlier row of its stream was delivered,
 * so a retried failure keeps order. Rows of the kinds in `requirePrepared` are claimed once prepared (`markPrepared`);
 * streams of little urgency may be held back a little (`hold`).
 */
export async function claimOutbox(
  db: CommonQueryMethods,
  input: {
    kinds: readonly OutboxKind[];
    limit: number;
    leaseSeconds: number;
    skipTenants?: readonly number[];
    requirePrepared?: readonly OutboxKind[];
    /**
     * Streams no more urgent than `fromPriority` wait until their head is `ms` old: a later state of the same check,
     * deployment or comment that comes meanwhile replaces it (one write instead of two), and the installation's next
     * write slot stays free for a result on its way.
     */
    hold?: { fromPriority: number; ms: number };
  },
): Promise<readonly ClaimedOutboxRow[]> {
  return db
    .any(sql.type(ClaimedOutboxRow)`
    WITH waiting AS (
      SELECT o.id, o.tenant_id, o.next_attempt_at, o.locked_until, o.created_at,
        (o.prepared_at IS NOT NULL OR o.kind <> ALL(${sql.array([...(input.requirePrepared ?? [])], 'text')})) AS prepared,
        min(o.priority) OVER w AS urgency, row_number() OVER (w ORDER BY o.id) AS position
      FROM outbox o
      WHERE o.delivered_at IS NULL AND o.kind = ANY(${sql.array([...input.kinds], 'text')})
        AND o.tenant_id <> ALL(${sql.array([...(input.skipTenants ?? [])], 'int8')})
      WINDOW w AS (PARTITION BY coalesce(o.stream, 'environment:' || o.environment_id, 'row:' || o.id))
    ), best AS (
      SELECT DISTINCT ON (tenant_id) id FROM waiting
      WHERE position = 1 AND prepared AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
        AND (urgency < ${input.hold?.fromPriority ?? 32767} OR created_at <= now() - make_interval(secs => ${(input.hold?.ms ?? 0) / 1000}))
      ORDER BY tenant_id, urgency, id
    ), c AS (
      SELECT o.id FROM outbox o JOIN best ON best.id = o.id
      WHERE o.delivered_at IS NULL AND (o.locked_until IS NULL OR o.locked_until < now())
      ORDER BY o.id
      LIMIT ${input.limit}
      FOR UPDATE OF o SKIP LOCKED
    )
    UPDATE outbox SET locked_until = now() + make_interval(secs => ${input.leaseSeconds}), attempts = outbox.attempts + 1
    FROM c WHERE outbox.id = c.id
    RETURNING outbox.id, outbox.tenant_id, outbox.environment_id, outbox.kind, outbox.payload, outbox.stream, outbox.attempts,
      outbox.created_at, outbox.priority`)
    .then(parseRows(ClaimedOutboxRow));
}

/** Rows of one kind not prepared yet (the reconciler's deployment statuses), of every tenant, oldest first. */
export async function listUnprepared(db: CommonQueryMethods, kind: OutboxKind, limit: number): Promise<readonly ClaimedOutboxRow[]> {
  return db
    .any(sql.type(ClaimedOutboxRow)`
    SELECT id, tenant_id, environment_id, kind, payload, stream, attempts, created_at, priority FROM outbox
    WHERE delivered_at IS NULL AND prepared_at IS NULL AND kind = ${kind} ORDER BY id LIMIT ${limit}`)
    .then(parseRows(ClaimedOutboxRow));
}

/** Marks a row prepared with its priority; false when another drain prepared it first (its transaction then rolls back). */
export async function markPrepared(db: CommonQueryMethods, id: number, priority: number): Promise<boolean> {
  const row = await db
    .maybeOne(sql.type(IdRow)`UPDATE outbox SET prepared_at = now(), priority = ${priority} WHERE id = ${id} AND prepared_at IS NULL RETURNING id`)
    .then(parseRow(IdRow));
  return row !== null;
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

/**
 * True when a later row for the same environment waits: an intermediate status may then be skipped. With `same`, only
 * a later row whose payload has these fields counts (a success repeated for the same commit).
 */
export async function hasLaterRowForEnvironment(
  db: CommonQueryMethods,
  id: number,
  environmentId: number,
  kind: OutboxKind,
  same?: Record<string, string>,
): Promise<boolean> {
  const match = same ? sql.fragment`AND payload @> ${jsonb(same)}` : sql.fragment``;
  return db.oneFirst(sql.type(z.object({ x: z.boolean() }))`
    SELECT EXISTS (SELECT 1 FROM outbox WHERE environment_id = ${environmentId} AND kind = ${kind} AND id > ${id} AND delivered_at IS NULL ${match}) AS x`);
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
