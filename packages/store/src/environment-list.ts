/**
 * The REST API's list of environments (and its live updates): only the columns the API shows, a page at a time by
 * (app, name, id) within one organization, on the index environments_tenant_app_name.
 *
 * This is the API's hottest read (a dashboard or a CI gate polls it), so it avoids two costs of the full summary.
 * It does not read the WorkflowApp specs (whole workflow files, detoasted per row just for a sha): the desired sha is
 * the desired version's (writeDesired sets both together), and the spec is read only for a row without that version.
 * And a page arrives as one JSON value built by Postgres (one JSON.parse instead of decoding 100 rows of 21 columns),
 * checked with zod 4, about eight times cheaper per row than zod 3's object parsing. For 100 rows that is ~1.3 ms of
 * CPU instead of ~7 ms (bench/api-load, docs/api.md).
 */
import { DRIFT_MODES, ENVIRONMENT_KINDS, parseConditions } from '@wharf/contracts';
import { sql, type CommonQueryMethods } from 'slonik';
import { z as z3 } from 'zod';
import { z } from 'zod/v4';
import { type RestrictedScope, restrictedFilter, type TenantScope } from './scope.js';

const id = z.number().int();
const text = z.string();

export const EnvironmentListItem = z.object({
  id,
  tenant_id: id,
  repository_id: id,
  app: text,
  name: text,
  kind: z.enum(ENVIRONMENT_KINDS),
  target: text,
  generation: id,
  observed_generation: id,
  desired_digest: text.nullable(),
  desired_sha: text.nullable(),
  observed_digest: text.nullable(),
  observed_sha: text.nullable(),
  // contracts' one parser of the column: it keeps the well-formed conditions.
  conditions: z.unknown().transform(parseConditions),
  url: text.nullable(),
  suspended: z.boolean(),
  drift_mode: z.enum(DRIFT_MODES),
  deletion_requested: z.boolean(),
  last_reconciled_at: text.nullable(),
  created_at: text,
  updated_at: text,
});
export type EnvironmentListItem = z.output<typeof EnvironmentListItem>;
const Page = z.array(EnvironmentListItem);
const PageText = z3.object({ page: z3.string() });

type Fragment = ReturnType<typeof sql.fragment>;

/** The rows of `query` (it selects `columns`) as one JSON array, in the given order of `r`'s columns. */
async function readItems(db: CommonQueryMethods, query: Fragment, order: Fragment): Promise<readonly EnvironmentListItem[]> {
  const text = await db.oneFirst(sql.type(PageText)`SELECT coalesce(json_agg(r ORDER BY ${order}), '[]')::text AS page FROM (${query}) r`);
  return Page.parse(JSON.parse(String(text)));
}

/** A timestamptz as the pool hands it out (Date#toISOString: UTC, milliseconds, Z). */
const isoTime = (column: string) => sql.fragment`to_char(${sql.identifier(['e', column])} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const columns = sql.fragment`
  e.id, e.tenant_id, e.repository_id, e.app, e.name, e.kind, e.target, e.generation, e.observed_generation,
  e.desired_digest, CASE WHEN e.desired_spec IS NOT NULL THEN coalesce(dv.sha, e.desired_spec->'version'->>'sha') END AS desired_sha,
  e.observed_digest, ov.sha AS observed_sha, e.conditions, e.url, e.suspended, e.drift_mode,
  e.deletion_requested_at IS NOT NULL AS deletion_requested, ${isoTime('last_reconciled_at')} AS last_reconciled_at,
  ${isoTime('created_at')} AS created_at, ${isoTime('updated_at')} AS updated_at`;
const from = sql.fragment`
  FROM environments e
  LEFT JOIN versions dv ON dv.id = e.desired_version_id
  LEFT JOIN versions ov ON ov.id = e.observed_version_id`;

export interface EnvironmentFilter {
  app?: string;
  name?: string;
  repositoryId?: number;
}

/** A page of the organization's environments by (app, name, id), after the given key: one query. */
export async function listEnvironmentPage(
  db: CommonQueryMethods,
  scope: RestrictedScope,
  filter: EnvironmentFilter,
  page: { after?: { app: string; name: string; id: number }; limit: number },
): Promise<readonly EnvironmentListItem[]> {
  const conditions = [
    restrictedFilter(scope, 'e'),
    ...(filter.app !== undefined ? [sql.fragment`e.app = ${filter.app}`] : []),
    ...(filter.name !== undefined ? [sql.fragment`e.name = ${filter.name}`] : []),
    ...(filter.repositoryId !== undefined ? [sql.fragment`e.repository_id = ${filter.repositoryId}`] : []),
    ...(page.after ? [sql.fragment`(e.app, e.name, e.id) > (${page.after.app}, ${page.after.name}, ${page.after.id})`] : []),
  ];
  return readItems(db, sql.fragment`
    SELECT ${columns} ${from} WHERE ${sql.join(conditions, sql.fragment` AND `)} ORDER BY e.app, e.name, e.id LIMIT ${page.limit}`,
    sql.fragment`r.app, r.name, r.id`,
  );
}

/** Several environments by id, within one organization (live updates). */
export async function getEnvironments(db: CommonQueryMethods, scope: TenantScope, ids: readonly number[]): Promise<readonly EnvironmentListItem[]> {
  if (ids.length === 0) return [];
  return readItems(db, sql.fragment`
    SELECT ${columns} ${from} WHERE e.tenant_id = ${scope.tenantId} AND e.id = ANY(${sql.array([...ids], 'int8')})`,
    sql.fragment`r.id`,
  );
}
