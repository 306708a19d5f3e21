/** invitations: a role offered to someone, redeemed once with a token before it expires. Only the token's hash is kept. */
import type { Role } from '@wharf/contracts';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, parseOne, parseRow, parseRows } from './rows.js';
import type { TenantScope } from './scope.js';

export const Invitation = z.object({
  id: int8,
  tenant_id: int8,
  role: z.enum(['owner', 'admin', 'deployer', 'viewer']),
  login: z.string().nullable(),
  invited_by: z.string(),
  created_at: z.string(),
  expires_at: z.string(),
  accepted_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});
export type Invitation = z.infer<typeof Invitation>;

const columns = sql.fragment`id, tenant_id, role, login, invited_by, created_at, expires_at, accepted_at, revoked_at`;

export async function createInvitation(
  db: CommonQueryMethods,
  scope: TenantScope,
  input: { tokenHash: Buffer; role: Role; login: string | null; invitedBy: string; expiresInHours: number },
): Promise<Invitation> {
  return db
    .one(sql.type(Invitation)`
    INSERT INTO invitations (tenant_id, token_hash, role, login, invited_by, expires_at)
    VALUES (${scope.tenantId}, ${sql.binary(input.tokenHash)}, ${input.role}, ${input.login}, ${input.invitedBy}, now() + make_interval(hours => ${input.expiresInHours}))
    RETURNING ${columns}`)
    .then(parseOne(Invitation));
}

export async function listInvitations(db: CommonQueryMethods, scope: TenantScope, page: { beforeId?: number; limit: number }): Promise<readonly Invitation[]> {
  return db
    .any(sql.type(Invitation)`
    SELECT ${columns} FROM invitations WHERE tenant_id = ${scope.tenantId} ${page.beforeId ? sql.fragment`AND id < ${page.beforeId}` : sql.fragment``}
    ORDER BY id DESC LIMIT ${page.limit}`)
    .then(parseRows(Invitation));
}

export async function revokeInvitation(db: CommonQueryMethods, scope: TenantScope, id: number): Promise<Invitation | null> {
  return db
    .maybeOne(sql.type(Invitation)`
    UPDATE invitations SET revoked_at = coalesce(revoked_at, now()) WHERE tenant_id = ${scope.tenantId} AND id = ${id} RETURNING ${columns}`)
    .then(parseRow(Invitation));
}

/**
 * Redeems an invitation by its token's hash (the token names its organization: this lookup is by design across
 * organizations) for `userId` with `login`; null when no open invitation matches (expired, revoked, used, or for
 * another login: the same answer).
 */
export async function redeemInvitation(db: CommonQueryMethods, tokenHash: Buffer, user: { id: number; login: string }): Promise<Invitation | null> {
  return db
    .maybeOne(sql.type(Invitation)`
    UPDATE invitations SET accepted_at = now(), accepted_by = ${user.id}
    WHERE token_hash = ${sql.binary(tokenHash)} AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
      AND (login IS NULL OR lower(login) = lower(${user.login}))
    RETURNING ${columns}`)
    .then(parseRow(Invitation));
}
