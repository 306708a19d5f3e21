import { sql, type CommonQueryMethods } from 'slonik';

export async function recordAudit(
  db: CommonQueryMethods,
  entry: { tenantId: number | null; actor: string; action: string; subject?: string; details?: Record<string, unknown> },
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO audit_log (tenant_id, actor, action, subject, details)
    VALUES (${entry.tenantId}, ${entry.actor}, ${entry.action}, ${entry.subject ?? null}, ${sql.jsonb(JSON.parse(JSON.stringify(entry.details ?? {})))})`);
}
