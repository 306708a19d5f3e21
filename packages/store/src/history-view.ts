/** History as people read it: each rollout with its commit, and the commit it rolled back to. */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8 } from './rows.js';


export const RolloutView = z.object({
  id: int8,
  app: z.string(),
  environment: z.string(),
  generation: int8,
  action: z.string(),
  result: z.string(),
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

/** The latest rollouts of the environments named `name` (of `app` when given), newest first, scoped by tenant when given. */
export async function listRollouts(
  db: CommonQueryMethods,
  input: { name: string; app?: string; tenantId?: number; limit?: number },
): Promise<RolloutView[]> {
  const rows = await db.any(sql.type(RolloutView)`
    SELECT h.id, e.app, e.name AS environment, h.generation, h.action, h.result, h.reason, h.message,
           v.sha, split_part(v.message, E'\n', 1) AS subject,
           rv.sha AS rollback_sha, split_part(rv.message, E'\n', 1) AS rollback_subject,
           h.started_at, h.finished_at
    FROM environment_history h
    JOIN environments e ON e.id = h.environment_id
    LEFT JOIN versions v ON v.id = h.version_id
    LEFT JOIN versions rv ON rv.id = h.rollback_of_version_id
    WHERE e.name = ${input.name}
      ${input.app !== undefined ? sql.fragment`AND e.app = ${input.app}` : sql.fragment``}
      ${input.tenantId !== undefined ? sql.fragment`AND e.tenant_id = ${input.tenantId}` : sql.fragment``}
    ORDER BY h.id DESC
    LIMIT ${input.limit ?? 20}`);
  return rows.map((r) => RolloutView.parse(r));
}
