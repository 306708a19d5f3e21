/** audit_log: who did what, when and why. Written in the transaction that does it (see contracts' AUDIT_ACTIONS). */
import type { AuditEntry } from '@wharf/contracts';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, jsonb, parseRows } from './rows.js';
import type { TenantScope } from './scope.js';

export async function recordAudit(db: CommonQueryMethods, list: readonly AuditEntry[]): Promise<void> {
  if (list.length === 0) return;
  await db.query(sql.unsafe`
    INSERT INTO audit_log (tenant_id, actor, action, subject, reason, details)
    SELECT x."tenantId", x.actor, x.action, x.subject, x.reason, coalesce(x.details, '{}'::jsonb)
    FROM jsonb_to_recordset(${jsonb(list)}) AS x("tenantId" bigint, actor text, action text, subject text, reason text, details jsonb)`);
}

export const AuditRow = z.object({
  id: int8,
  actor: z.string(),
  action: z.string(),
  subject: z.string().nullable(),
  reason: z.string(),
  details: z.record(z.unknown()),
  at: z.string(),
});
export type AuditRow = z.infer<typeof AuditRow>;

/** A tenant's entries, newest first; of one subject when given. */
export async function listAudit(db: CommonQueryMethods, scope: TenantScope, input: { subject?: string; limit?: number } = {}): Promise<readonly AuditRow[]> {
  return db
    .any(sql.type(AuditRow)`
    SELECT id, actor, action, subject, reason, details, at FROM audit_log
    WHERE tenant_id = ${scope.tenantId} ${input.subject !== undefined ? sql.fragment`AND subject = ${input.subject}` : sql.fragment``}
    ORDER BY at DESC, id DESC LIMIT ${input.limit ?? 50}`)
    .then(parseRows(AuditRow));
}
