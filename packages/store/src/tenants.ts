/** tenants: a GitHub App installation, or the local owner of `wharf up`. */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, parseOne, parseRow } from './rows.js';

/** `team`: an organization made at sign-in, before it holds an installation (accounts, migration 0140). */
export const TENANT_KINDS = ['github', 'local', 'team'] as const;

export const Tenant = z.object({
  id: int8,
  kind: z.enum(TENANT_KINDS),
  external_id: z.string(),
  name: z.string(),
  plan: z.string(),
  /** An operator's override of the plan's preview limit; null: the plan's. */
  max_previews: int8.nullable(),
  suspended: z.boolean(),
});
export type Tenant = z.infer<typeof Tenant>;

const columns = sql.fragment`id, kind, external_id, name, plan, max_previews, suspended_at IS NOT NULL AS suspended`;

export async function upsertTenant(db: CommonQueryMethods, input: { kind: Tenant['kind']; externalId: string; name: string }): Promise<Tenant> {
  return db
    .one(sql.type(Tenant)`
    INSERT INTO tenants (kind, external_id, name) VALUES (${input.kind}, ${input.externalId}, ${input.name})
    ON CONFLICT (kind, external_id) DO UPDATE SET name = EXCLUDED.name
    RETURNING ${columns}`)
    .then(parseOne(Tenant));
}

/** The tenant of an installation (or the local owner), by its external id. */
export async function findTenant(db: CommonQueryMethods, kind: Tenant['kind'], externalId: string): Promise<Tenant | null> {
  return db
    .maybeOne(sql.type(Tenant)`SELECT ${columns} FROM tenants WHERE kind = ${kind} AND external_id = ${externalId}`)
    .then(parseRow(Tenant));
}

/**
 * Suspends or resumes a tenant. Its environments come due at once either way, so the reconciler stops their
 * runtimes (suspended: data kept) or starts them again (resumed).
 */
export async function setTenantSuspended(db: CommonQueryMethods, tenantId: number, suspended: boolean): Promise<void> {
  await db.query(sql.unsafe`
    WITH changed AS (
      UPDATE tenants SET suspended_at = CASE WHEN ${suspended} THEN coalesce(suspended_at, now()) ELSE NULL END
      WHERE id = ${tenantId} AND (suspended_at IS NOT NULL) <> ${suspended}
      RETURNING id
    )
    UPDATE environments SET next_attempt_at = now() WHERE tenant_id IN (SELECT id FROM changed) AND NOT suspended`);
}

/** An operator's cap on concurrent previews of a tenant, instead of its plan's (null: the plan's again). */
export async function setMaxPreviews(db: CommonQueryMethods, tenantId: number, maxPreviews: number | null): Promise<void> {
  await db.query(sql.unsafe`UPDATE tenants SET max_previews = ${maxPreviews} WHERE id = ${tenantId}`);
}
