/**
 * Organizations: the tenant seen as an organization (slug, name, plan, installations). Every read names the
 * organization it reads (TenantScope) or the user whose organizations it lists.
 */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, parseOne, parseRow, parseRows } from './rows.js';
import type { TenantScope } from './scope.js';

export const Organization = z.object({
  id: int8,
  slug: z.string(),
  name: z.string(),
  plan: z.string(),
  kind: z.string(),
  suspended: z.boolean(),
  installations: z.array(z.object({ id: z.string(), account: z.string() })),
  created_at: z.string(),
});
export type Organization = z.infer<typeof Organization>;

const columns = sql.fragment`t.id, t.slug, t.name, t.plan, t.kind, t.suspended_at IS NOT NULL AS suspended, t.created_at,
  coalesce((SELECT jsonb_agg(jsonb_build_object('id', i.installation_id, 'account', i.account) ORDER BY i.created_at)
            FROM github_installations i WHERE i.tenant_id = t.id), '[]'::jsonb) AS installations`;

export async function getOrganization(db: CommonQueryMethods, scope: TenantScope): Promise<Organization | null> {
  return db.maybeOne(sql.type(Organization)`SELECT ${columns} FROM tenants t WHERE t.id = ${scope.tenantId}`).then(parseRow(Organization));
}

export const Membership = Organization.extend({ role: z.string() });
export type Membership = z.infer<typeof Membership>;

/** The organizations a user belongs to, with their role, by slug; after `afterSlug` when paging. */
export async function listUserOrganizations(db: CommonQueryMethods, userId: number, page: { afterSlug?: string; limit?: number } = {}): Promise<readonly Membership[]> {
  return db
    .any(sql.type(Membership)`
    SELECT ${columns}, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id
    WHERE m.user_id = ${userId} ${page.afterSlug !== undefined ? sql.fragment`AND t.slug > ${page.afterSlug}` : sql.fragment``}
    ORDER BY t.slug LIMIT ${page.limit ?? 1000}`)
    .then(parseRows(Membership));
}

/** A user's organization named by slug or id: null when it does not exist or they are not a member (the same). */
export async function findUserOrganization(db: CommonQueryMethods, userId: number, slugOrId: string): Promise<Membership | null> {
  const byId = /^[1-9][0-9]{0,15}$/.test(slugOrId) ? Number(slugOrId) : -1;
  return db
    .maybeOne(sql.type(Membership)`
    SELECT ${columns}, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id
    WHERE m.user_id = ${userId} AND (t.slug = ${slugOrId} OR t.id = ${byId}) LIMIT 1`)
    .then(parseRow(Membership));
}

/**
 * Locks the organization's row until the transaction ends and returns its plan: what changes its members (accepting an
 * invitation) takes it first, so two acceptances cannot both take the last seat. Null when there is no such one.
 */
export async function lockOrganizationPlan(db: CommonQueryMethods, scope: TenantScope): Promise<string | null> {
  return db.maybeOneFirst(sql.type(z.object({ plan: z.string() }))`SELECT plan FROM tenants WHERE id = ${scope.tenantId} FOR UPDATE`);
}

export async function renameOrganization(db: CommonQueryMethods, scope: TenantScope, name: string): Promise<void> {
  await db.query(sql.unsafe`UPDATE tenants SET name = ${name} WHERE id = ${scope.tenantId}`);
}

/** An organization made when someone signs in without one; they own it. */
export async function createTeamOrganization(db: CommonQueryMethods, input: { name: string; ownerUserId: number; externalId: string }): Promise<TenantScope> {
  const row = await db
    .one(sql.type(z.object({ id: int8 }))`
    WITH t AS (
      INSERT INTO tenants (kind, external_id, name) VALUES ('team', ${input.externalId}, ${input.name})
      ON CONFLICT (kind, external_id) DO UPDATE SET name = tenants.name RETURNING id
    ), m AS (
      INSERT INTO memberships (tenant_id, user_id, role) SELECT id, ${input.ownerUserId}, 'owner' FROM t ON CONFLICT DO NOTHING
    )
    SELECT id FROM t`)
    .then(parseOne(z.object({ id: int8 })));
  return { tenantId: row.id };
}

/** The organization that holds a GitHub App installation. */
export async function findInstallationOrganization(db: CommonQueryMethods, installationId: string): Promise<TenantScope | null> {
  const row = await db
    .maybeOne(sql.type(z.object({ tenant_id: int8 }))`SELECT tenant_id FROM github_installations WHERE installation_id = ${installationId}`)
    .then(parseRow(z.object({ tenant_id: int8 })));
  return row ? { tenantId: row.tenant_id } : null;
}

/**
 * The local owner's organization of `wharf up` (the tenant kind 'local'), with the local user as its owner. It runs on
 * its owner's machine, so no plan limits apply (plan Enterprise); the local target's per-repository cap still does.
 */
export async function ensureLocalOwner(db: CommonQueryMethods): Promise<{ tenantId: number; userId: number }> {
  const Row = z.object({ tenant_id: int8, user_id: int8 });
  return db
    .one(sql.type(Row)`
    WITH t AS (
      INSERT INTO tenants (kind, external_id, name, plan) VALUES ('local', 'local', 'local', 'enterprise')
      ON CONFLICT (kind, external_id) DO UPDATE SET name = tenants.name RETURNING id
    ), u AS (
      INSERT INTO users (kind, login, name) VALUES ('local', 'local', 'local owner')
      ON CONFLICT (kind) WHERE kind = 'local' DO UPDATE SET login = users.login RETURNING id
    ), m AS (
      INSERT INTO memberships (tenant_id, user_id, role) SELECT t.id, u.id, 'owner' FROM t, u
      ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = 'owner'
    )
    SELECT t.id AS tenant_id, u.id AS user_id FROM t, u`)
    .then(parseOne(Row))
    .then((r) => ({ tenantId: r.tenant_id, userId: r.user_id }));
}
