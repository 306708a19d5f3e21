/**
 * api_idempotency: acting POSTs with an Idempotency-Key. The first request claims the key; its result is stored and
 * replayed to every retry with the same key and the same request for 24 hours.
 */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, jsonb, parseRow } from './rows.js';
import type { TenantScope } from './scope.js';

export const IdempotencyRow = z.object({ request_hash: z.string(), status: int8.nullable(), body: z.unknown(), fresh: z.boolean() });

export type Claim = { kind: 'claimed' } | { kind: 'replay'; status: number; body: unknown } | { kind: 'in-progress' } | { kind: 'mismatch' };

/** Claims `key` for this request, or says what an earlier request with it became. */
export async function claimIdempotencyKey(
  db: CommonQueryMethods,
  scope: TenantScope,
  input: { principal: string; key: string; requestHash: string },
): Promise<Claim> {
  const row = await db
    .maybeOne(sql.type(IdempotencyRow)`
    WITH ins AS (
      INSERT INTO api_idempotency (tenant_id, principal, key, request_hash) VALUES (${scope.tenantId}, ${input.principal}, ${input.key}, ${input.requestHash})
      ON CONFLICT (tenant_id, principal, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = NULL, body = NULL, created_at = now()
        WHERE api_idempotency.created_at < now() - interval '24 hours'
      RETURNING request_hash, status, body, true AS fresh
    )
    SELECT * FROM ins
    UNION ALL
    SELECT request_hash, status, body, false AS fresh FROM api_idempotency
    WHERE tenant_id = ${scope.tenantId} AND principal = ${input.principal} AND key = ${input.key} AND NOT EXISTS (SELECT 1 FROM ins)`)
    .then(parseRow(IdempotencyRow));
  // No row: a concurrent first request claimed the key after this statement's snapshot was taken.
  if (!row) return { kind: 'in-progress' };
  if (row.fresh) return { kind: 'claimed' };
  if (row.request_hash !== input.requestHash) return { kind: 'mismatch' };
  if (row.status === null) return { kind: 'in-progress' };
  return { kind: 'replay', status: row.status, body: row.body };
}

export async function completeIdempotencyKey(
  db: CommonQueryMethods,
  scope: TenantScope,
  input: { principal: string; key: string; status: number; body: unknown },
): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE api_idempotency SET status = ${input.status}, body = ${jsonb(input.body)}
    WHERE tenant_id = ${scope.tenantId} AND principal = ${input.principal} AND key = ${input.key}`);
}

/** A request that failed before it acted releases its key, so that a retry runs. */
export async function releaseIdempotencyKey(db: CommonQueryMethods, scope: TenantScope, input: { principal: string; key: string }): Promise<void> {
  await db.query(sql.unsafe`
    DELETE FROM api_idempotency WHERE tenant_id = ${scope.tenantId} AND principal = ${input.principal} AND key = ${input.key} AND status IS NULL`);
}

/**
 * Deletes keys older than 24 hours (a claim after that starts afresh anyway), at most `limit` rows a call: every
 * tenant's, by design (the API unit's periodic prune). Returns how many were deleted.
 */
export async function pruneIdempotencyKeysOfEveryTenant(db: CommonQueryMethods, limit: number): Promise<number> {
  const result = await db.query(sql.unsafe`
    DELETE FROM api_idempotency WHERE ctid = ANY(ARRAY(
      SELECT ctid FROM api_idempotency WHERE created_at < now() - interval '24 hours' ORDER BY created_at LIMIT ${limit}))`);
  return result.rowCount;
}
