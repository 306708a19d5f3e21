/** memberships: who belongs to an organization, with which role. Every read and write names the organization. */
import type { Role } from '@wharf/contracts';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, parseRow, parseRows } from './rows.js';
import type { TenantScope } from './scope.js';

export const Member = z.object({
  user_id: int8,
  login: z.string(),
  name: z.string().nullable(),
  kind: z.enum(['github', 'local']),
  role: z.enum(['owner', 'admin', 'deployer', 'viewer']),
  created_at: z.string(),
});
export type Member = z.infer<typeof Member>;

const columns = sql.fragment`m.user_id, u.login, u.name, u.kind, m.role, m.created_at`;

export async function getMember(db: CommonQueryMethods, scope: TenantScope, userId: number): Promise<Member | null> {
  return db
    .maybeOne(sql.type(Member)`SELECT ${columns} FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = ${scope.tenantId} AND m.user_id = ${userId}`)
    .then(parseRow(Member));
}

export async function listMembers(db: CommonQueryMethods, scope: TenantScope, page: { afterUserId?: number; limit: number }): Promise<readonly Member[]> {
  return db
    .any(sql.type(Member)`
    SELECT ${columns} FROM memberships m JOIN users u ON u.id = m.user_id
    WHERE m.tenant_id = ${scope.tenantId} AND m.user_id > ${page.afterUserId ?? 0} ORDER BY m.user_id LIMIT ${page.limit}`)
    .then(parseRows(Member));
}

export async function countMembers(db: CommonQueryMethods, scope: TenantScope): Promise<number> {
  return db.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM memberships WHERE tenant_id = ${scope.tenantId}`);
}

/** Adds a member; false when they already were one. */
export async function addMember(db: CommonQueryMethods, scope: TenantScope, userId: number, role: Role): Promise<boolean> {
  const res = await db.query(sql.unsafe`
    INSERT INTO memberships (tenant_id, user_id, role) VALUES (${scope.tenantId}, ${userId}, ${role}) ON CONFLICT DO NOTHING`);
  return res.rowCount === 1;
}

export type OwnerGuarded = 'done' | 'not-found' | 'last-owner';

/**
 * Changes a role, or removes the member (role null), keeping at least one owner: the organization's owner rows are
 * locked first, so two concurrent demotions cannot both pass.
 */
export async function changeMember(db: CommonQueryMethods, scope: TenantScope, userId: number, role: Role | null): Promise<OwnerGuarded> {
  const owners = await db.anyFirst(sql.type(z.object({ user_id: int8 }))`
    SELECT user_id FROM memberships WHERE tenant_id = ${scope.tenantId} AND role = 'owner' ORDER BY user_id FOR UPDATE`);
  const ownerIds = owners.map(Number);
  const current = await getMember(db, scope, userId);
  if (!current) return 'not-found';
  if (current.role === 'owner' && role !== 'owner' && ownerIds.length <= 1) return 'last-owner';
  if (role === null) await db.query(sql.unsafe`DELETE FROM memberships WHERE tenant_id = ${scope.tenantId} AND user_id = ${userId}`);
  else await db.query(sql.unsafe`UPDATE memberships SET role = ${role} WHERE tenant_id = ${scope.tenantId} AND user_id = ${userId}`);
  return 'done';
}
