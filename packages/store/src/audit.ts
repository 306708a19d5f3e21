/**
 * audit_log: who did what, when and why. Written in the transaction that does it (see contracts' AUDIT_ACTIONS).
 * Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE (migration 0140).
 */
import { ACTOR_KINDS, actorKindOf, type AuditEntry } from '@wharf/contracts';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, Json, jsonb, parseRows } from './rows.js';
import type { TenantScope } from './scope.js';

export async function recordAudit(db: CommonQueryMethods, list: readonly AuditEntry[]): Promise<void> {
  if (list.length === 0) return;
  const rows = list.map((e) => ({
    ...e,
    actorKind: e.actorKind ?? actorKindOf(e.actor),
    requestId: e.requestId ?? null,
    sourceIp: e.sourceIp ?? null,
    before: e.before === undefined ? null : { value: e.before },
    after: e.after === undefined ? null : { value: e.after },
  }));
  await db.query(sql.unsafe`
    INSERT INTO audit_log (tenant_id, actor, action, subject, reason, details, actor_kind, request_id, source_ip, before, after)
    SELECT x."tenantId", x.actor, x.action, x.subject, x.reason, coalesce(x.details, '{}'::jsonb), x."actorKind", x."requestId", x."sourceIp",
           x.before->'value', x.after->'value'
    FROM jsonb_to_recordset(${jsonb(rows)}) AS x("tenantId" bigint, actor text, action text, subject text, reason text, details jsonb,
      "actorKind" text, "requestId" text, "sourceIp" text, before jsonb, after jsonb)`);
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

export const AuditRecord = AuditRow.extend({
  actor_kind: z.enum(ACTOR_KINDS).catch('system'),
  request_id: z.string().nullable(),
  source_ip: z.string().nullable(),
  before: Json,
  after: Json,
});
export type AuditRecord = z.infer<typeof AuditRecord>;

export interface AuditFilter {
  actor?: string;
  action?: string;
  subject?: string;
  since?: string;
  until?: string;
}

const recordColumns = sql.fragment`id, actor, action, subject, reason, details, at, actor_kind, request_id, source_ip, before, after`;

const filterOf = (scope: TenantScope, f: AuditFilter) =>
  sql.join(
    [
      sql.fragment`tenant_id = ${scope.tenantId}`,
      ...(f.actor !== undefined ? [sql.fragment`actor = ${f.actor}`] : []),
      ...(f.action !== undefined ? [sql.fragment`action = ${f.action}`] : []),
      ...(f.subject !== undefined ? [sql.fragment`subject = ${f.subject}`] : []),
      ...(f.since !== undefined ? [sql.fragment`at >= ${f.since}::timestamptz`] : []),
      ...(f.until !== undefined ? [sql.fragment`at < ${f.until}::timestamptz`] : []),
    ],
    sql.fragment` AND `,
  );

/** A page of a tenant's entries, newest first (by id), filtered. */
export async function listAuditPage(db: CommonQueryMethods, scope: TenantScope, filter: AuditFilter, page: { beforeId?: number; limit: number }): Promise<readonly AuditRecord[]> {
  return db
    .any(sql.type(AuditRecord)`
    SELECT ${recordColumns} FROM audit_log WHERE ${filterOf(scope, filter)} ${page.beforeId ? sql.fragment`AND id < ${page.beforeId}` : sql.fragment``}
    ORDER BY id DESC LIMIT ${page.limit}`)
    .then(parseRows(AuditRecord));
}

/** The export: oldest first, in chunks after `afterId`. */
export async function exportAuditChunk(db: CommonQueryMethods, scope: TenantScope, filter: AuditFilter, afterId: number, limit: number): Promise<readonly AuditRecord[]> {
  return db
    .any(sql.type(AuditRecord)`
    SELECT ${recordColumns} FROM audit_log WHERE ${filterOf(scope, filter)} AND id > ${afterId} ORDER BY id LIMIT ${limit}`)
    .then(parseRows(AuditRecord));
}
