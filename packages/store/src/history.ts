/** environment_history: one row per rollout (written by rollouts.ts), as the CLI and the API read it. */
import { ROLLOUT_RESULTS } from '@wharf/contracts';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, parseRows } from './rows.js';
import { type ReadScope, tenantFilter, type TenantScope } from './scope.js';

export const HistoryEntry = z.object({
  id: int8,
  environment_id: int8,
  generation: int8,
  version_id: int8.nullable(),
  digest: z.string().nullable(),
  action: z.string(),
  result: z.enum(ROLLOUT_RESULTS),
  reason: z.string().nullable(),
  message: z.string().nullable(),
  rollback_of_version_id: int8.nullable(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export async function listHistory(db: CommonQueryMethods, scope: TenantScope, environmentId: number, limit = 20): Promise<readonly HistoryEntry[]> {
  return db
    .any(sql.type(HistoryEntry)`
    SELECT id, environment_id, generation, version_id, digest, action, result, reason, message, rollback_of_version_id,
           started_at, finished_at
    FROM environment_history WHERE tenant_id = ${scope.tenantId} AND environment_id = ${environmentId} ORDER BY id DESC LIMIT ${limit}`)
    .then(parseRows(HistoryEntry));
}

/** A rollout as people read it: with its commit, and the commit it rolled back to (contracts' describeRollout words it). */
export const RolloutView = z.object({
  id: int8,
  app: z.string(),
  environment: z.string(),
  generation: int8,
  action: z.string(),
  result: z.enum(ROLLOUT_RESULTS),
  reason: z.string().nullable(),
  message: z.string().nullable(),
  sha: z.string().nullable(),
  subject: z.string().nullable(),
  rollback_sha: z.string().nullable(),
  rollback_subject: z.string().nullable(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
});
export type RolloutView = z.infer<typeof RolloutView>;

/** The latest rollouts of the environments named `name` (of `app` when given), newest first. */
export async function listRollouts(
  db: CommonQueryMethods,
  scope: ReadScope,
  input: { name: string; app?: string; limit?: number },
): Promise<readonly RolloutView[]> {
  return db
    .any(sql.type(RolloutView)`
    SELECT h.id, e.app, e.name AS environment, h.generation, h.action, h.result, h.reason, h.message,
           v.sha, split_part(v.message, E'\\n', 1) AS subject,
           rv.sha AS rollback_sha, split_part(rv.message, E'\\n', 1) AS rollback_subject,
           h.started_at, h.finished_at
    FROM environment_history h
    JOIN environments e ON e.id = h.environment_id
    LEFT JOIN versions v ON v.id = h.version_id
    LEFT JOIN versions rv ON rv.id = h.rollback_of_version_id
    WHERE ${tenantFilter(scope, 'e')} AND e.name = ${input.name}
      ${input.app !== undefined ? sql.fragment`AND e.app = ${input.app}` : sql.fragment``}
    ORDER BY h.id DESC
    LIMIT ${input.limit ?? 20}`)
    .then(parseRows(RolloutView));
}

/** A page of an environment's rollouts (with their commits), newest first, within one organization. */
export async function listRolloutPage(
  db: CommonQueryMethods,
  scope: TenantScope,
  environmentId: number,
  page: { beforeId?: number; limit: number },
): Promise<readonly (RolloutView & { environment_id: number })[]> {
  const Row = RolloutView.extend({ environment_id: int8 });
  return db
    .any(sql.type(Row)`
    SELECT h.id, h.environment_id, e.app, e.name AS environment, h.generation, h.action, h.result, h.reason, h.message,
           v.sha, split_part(v.message, E'\\n', 1) AS subject,
           rv.sha AS rollback_sha, split_part(rv.message, E'\\n', 1) AS rollback_subject,
           h.started_at, h.finished_at
    FROM environment_history h
    JOIN environments e ON e.id = h.environment_id AND e.tenant_id = h.tenant_id
    LEFT JOIN versions v ON v.id = h.version_id
    LEFT JOIN versions rv ON rv.id = h.rollback_of_version_id
    WHERE h.tenant_id = ${scope.tenantId} AND h.environment_id = ${environmentId}
      ${page.beforeId ? sql.fragment`AND h.id < ${page.beforeId}` : sql.fragment``}
    ORDER BY h.id DESC LIMIT ${page.limit}`)
    .then(parseRows(Row));
}

/** One rollout by id with its commits, within one organization (live updates). */
export async function getRollout(db: CommonQueryMethods, scope: TenantScope, id: number): Promise<(RolloutView & { environment_id: number }) | null> {
  const Row = RolloutView.extend({ environment_id: int8 });
  const row = await db.maybeOne(sql.type(Row)`
    SELECT h.id, h.environment_id, e.app, e.name AS environment, h.generation, h.action, h.result, h.reason, h.message,
           v.sha, split_part(v.message, E'\\n', 1) AS subject,
           rv.sha AS rollback_sha, split_part(rv.message, E'\\n', 1) AS rollback_subject,
           h.started_at, h.finished_at
    FROM environment_history h
    JOIN environments e ON e.id = h.environment_id AND e.tenant_id = h.tenant_id
    LEFT JOIN versions v ON v.id = h.version_id
    LEFT JOIN versions rv ON rv.id = h.rollback_of_version_id
    WHERE h.tenant_id = ${scope.tenantId} AND h.id = ${id}`);
  return row ? Row.parse(row) : null;
}
