/** outbox: what GitHub must hear about, inserted in the transaction that decided it; the dedupe key makes a retried write a no-op. */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, parseRows } from './rows.js';

/** int8 columns come back as BigInt from slonik 47's type parsers: parse rows to numbers (ids stay far below 2^53). */

export interface NewOutboxRow {
  tenantId: number;
  environmentId: number | null;
  kind: string;
  payload: Record<string, unknown>;
  dedupeKey: string;
}

export async function insertOutboxRows(db: CommonQueryMethods, rows: readonly NewOutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(sql.unsafe`
    INSERT INTO outbox (tenant_id, environment_id, kind, payload, dedupe_key)
    SELECT x."tenantId", x."environmentId", x.kind, x.payload, x."dedupeKey"
    FROM jsonb_to_recordset(${sql.jsonb(rows as never)}) AS x("tenantId" bigint, "environmentId" bigint, kind text, payload jsonb, "dedupeKey" text)
    ON CONFLICT (dedupe_key) DO NOTHING`);
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

/** Tests and `wharf status --json` read what was queued for an environment. */
export async function listOutboxForEnvironment(db: CommonQueryMethods, environmentId: number): Promise<readonly OutboxRow[]> {
  return db.any(sql.type(OutboxRow)`
    SELECT id, tenant_id, environment_id, kind, payload, dedupe_key, created_at
    FROM outbox WHERE environment_id = ${environmentId} ORDER BY id`).then(parseRows(OutboxRow));
}
