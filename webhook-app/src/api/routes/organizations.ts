/** Organizations, members and invitations. */
import { AUDIT_ACTIONS, BILLING_PLANS, isBillingPlanId, isRole, mayAssignRole, ROLE_PERMISSIONS, type Role, withinQuota } from '@wharf/contracts';
import { apiKeys, audit, type CommonQueryMethods, invitations, memberships, organizations } from '@wharf/store';
import { hashSecret, randomSecret } from '../auth/secrets.js';
import { actingOf, auditEntry, type Handler, type HandlerContext, idParam, principalOf } from '../handler.js';
import { decodeCursor, pageOf } from '../http/pagination.js';
import { notFound, ProblemError } from '../http/problem-error.js';
import { invitationView, memberView, organizationView } from '../views.js';

async function organization(ctx: HandlerContext) {
  const acting = actingOf(ctx);
  const org = await organizations.getOrganization(ctx.deps.pool, acting);
  if (!org) throw notFound('organization');
  return organizationView(org, acting.role, acting.permissions);
}

const listOrganizations: Handler = async (ctx) => {
  const principal = principalOf(ctx);
  if (principal.kind === 'key') {
    const org = await organizations.getOrganization(ctx.deps.pool, { tenantId: principal.tenantId });
    return { status: 200, body: { items: org ? [organizationView(org, null, principal.permissions)] : [], nextCursor: null } };
  }
  const cursor = decodeCursor(ctx.query.cursor, ['s']);
  const rows = await organizations.listUserOrganizations(ctx.deps.pool, principal.userId, { ...(cursor ? { afterSlug: String(cursor[0]) } : {}), limit: ctx.limit + 1 });
  return {
    status: 200,
    body: pageOf(rows, ctx.limit, (o) => organizationView(o, isRole(o.role) ? o.role : null, isRole(o.role) ? ROLE_PERMISSIONS[o.role] : []), (o) => [o.slug]),
  };
};

const updateOrganization: Handler = async (ctx) => {
  const acting = actingOf(ctx);
  const name = String(ctx.body.name);
  const before = await organizations.getOrganization(ctx.deps.pool, acting);
  await ctx.deps.pool.transaction(async (tx) => {
    await organizations.renameOrganization(tx, acting, name);
    await audit.recordAudit(tx, [auditEntry(ctx, { action: AUDIT_ACTIONS.organizationUpdate, subject: `organization:${acting.tenantId}`, before: { name: before?.name }, after: { name } })]);
  });
  return { status: 200, body: await organization(ctx) };
};

const listMembers: Handler = async (ctx) => {
  const cursor = decodeCursor(ctx.query.cursor, ['n']);
  const rows = await memberships.listMembers(ctx.deps.pool, actingOf(ctx), { ...(cursor ? { afterUserId: Number(cursor[0]) } : {}), limit: ctx.limit + 1 });
  return { status: 200, body: pageOf(rows, ctx.limit, memberView, (m) => [m.user_id]) };
};

/** Changing a member's role or removing them: only owners touch owners; the last owner stays. */
async function changeMember(ctx: HandlerContext, role: Role | null): Promise<memberships.Member | null> {
  const acting = actingOf(ctx);
  const userId = idParam(ctx, 'userId');
  const mayOwn = acting.permissions.has('organization:own');
  const changedKeys: number[] = [];
  const member = await ctx.deps.pool.transaction(async (tx) => {
    const current = await memberships.getMember(tx, acting, userId);
    if (!current) throw notFound('member');
    if ((current.role === 'owner' || role === 'owner') && !mayOwn) {
      throw new ProblemError('permission-denied', 'only owners give or take the owner role', { permission: 'organization:own' });
    }
    if (role !== null && !mayAssignRole(acting.role ?? 'admin', role) && !mayOwn) throw new ProblemError('permission-denied', 'only owners make owners', { permission: 'organization:own' });
    const outcome = await memberships.changeMember(tx, acting, userId, role);
    if (outcome === 'not-found') throw notFound('member');
    if (outcome === 'last-owner') throw new ProblemError('last-owner', 'make someone else an owner first');
    const keys = await keysFollowCreator(tx, acting, userId, role);
    await audit.recordAudit(tx, [
      auditEntry(ctx, {
        action: role === null ? AUDIT_ACTIONS.memberRemove : AUDIT_ACTIONS.memberRole,
        subject: `user:${current.login}`,
        before: { role: current.role },
        after: role === null ? null : { role },
        details: { userId, ...(keys.revoked.length > 0 ? { keysRevoked: keys.revoked } : {}), ...(keys.capped.length > 0 ? { keysCapped: keys.capped } : {}) },
      }),
    ]);
    changedKeys.push(...keys.revoked, ...keys.capped);
    return role === null ? null : memberships.getMember(tx, acting, userId);
  });
  // After the commit (the NOTIFY tells the other replicas), so no request of this one caches the key as it was.
  for (const id of changedKeys) ctx.deps.keys.forget(id);
  return member;
}

/** A member's API keys never outlive their membership nor hold more than their role: removed, revoked; demoted, capped. */
async function keysFollowCreator(tx: CommonQueryMethods, scope: { tenantId: number }, userId: number, role: Role | null): Promise<{ revoked: number[]; capped: number[] }> {
  if (role === null) return { revoked: (await apiKeys.revokeKeysOfCreator(tx, scope, userId)).map((k) => k.id), capped: [] };
  const { capped, revoked } = await apiKeys.capKeysOfCreator(tx, scope, userId, ROLE_PERMISSIONS[role]);
  return { revoked: revoked.map((k) => k.id), capped: capped.map((k) => k.id) };
}

const updateMember: Handler = async (ctx) => {
  const role = ctx.body.role;
  if (!isRole(role)) throw new ProblemError('validation-failed', 'unknown role');
  const member = await changeMember(ctx, role);
  if (!member) throw notFound('member');
  return { status: 200, body: memberView(member) };
};

const removeMember: Handler = async (ctx) => {
  await changeMember(ctx, null);
  return { status: 204 };
};

const listInvitations: Handler = async (ctx) => {
  const cursor = decodeCursor(ctx.query.cursor, ['n']);
  const rows = await invitations.listInvitations(ctx.deps.pool, actingOf(ctx), { ...(cursor ? { beforeId: Number(cursor[0]) } : {}), limit: ctx.limit + 1 });
  return { status: 200, body: pageOf(rows, ctx.limit, (i) => invitationView(i), (i) => [i.id]) };
};

/** One more member must fit the plan's seats (at invitation, and again at acceptance: seats may have gone since). */
async function checkSeat(db: CommonQueryMethods, scope: { tenantId: number }, plan: string): Promise<void> {
  const seats = isBillingPlanId(plan) ? BILLING_PLANS[plan].limits.seats : BILLING_PLANS.free.limits.seats;
  const members = await memberships.countMembers(db, scope);
  if (!withinQuota(seats, members + 1)) throw new ProblemError('seat-limit', `the ${plan} plan has ${seats} seat${seats === 1 ? '' : 's'}, all taken`);
}

const createInvitation: Handler = async (ctx) => {
  const acting = actingOf(ctx);
  const role = ctx.body.role;
  if (!isRole(role)) throw new ProblemError('validation-failed', 'unknown role');
  if (role === 'owner' && !acting.permissions.has('organization:own')) throw new ProblemError('permission-denied', 'only owners invite owners', { permission: 'organization:own' });
  await checkSeat(ctx.deps.pool, acting, acting.plan);
  const token = randomSecret();
  const invitation = await ctx.deps.pool.transaction(async (tx) => {
    const created = await invitations.createInvitation(tx, acting, {
      tokenHash: hashSecret(ctx.deps.pepper, token),
      role,
      login: typeof ctx.body.login === 'string' ? ctx.body.login : null,
      invitedBy: principalOf(ctx).actor,
      expiresInHours: typeof ctx.body.expiresInHours === 'number' ? ctx.body.expiresInHours : 168,
    });
    await audit.recordAudit(tx, [auditEntry(ctx, { action: AUDIT_ACTIONS.invitationCreate, subject: `invitation:${created.id}`, after: { role, login: created.login } })]);
    return created;
  });
  return { status: 201, body: invitationView(invitation, token) };
};

const revokeInvitation: Handler = async (ctx) => {
  const acting = actingOf(ctx);
  await ctx.deps.pool.transaction(async (tx) => {
    const revoked = await invitations.revokeInvitation(tx, acting, idParam(ctx));
    if (!revoked) throw notFound('invitation');
    await audit.recordAudit(tx, [auditEntry(ctx, { action: AUDIT_ACTIONS.invitationRevoke, subject: `invitation:${revoked.id}` })]);
  });
  return { status: 204 };
};

const acceptInvitation: Handler = async (ctx) => {
  const principal = principalOf(ctx);
  if (principal.kind !== 'user') throw new ProblemError('permission-denied', 'only a signed-in person accepts invitations');
  const org = await ctx.deps.pool.transaction(async (tx) => {
    const invitation = await invitations.redeemInvitation(tx, hashSecret(ctx.deps.pepper, String(ctx.body.token)), { id: principal.userId, login: principal.login });
    if (!invitation) throw new ProblemError('invitation-unusable', 'ask for a new invitation');
    const scope = { tenantId: invitation.tenant_id };
    const plan = await organizations.lockOrganizationPlan(tx, scope);
    if (plan === null) throw notFound('organization');
    if (await memberships.getMember(tx, scope, principal.userId)) throw new ProblemError('already-member');
    // Seats may have been taken since the invitation was made; a refusal keeps the invitation usable for later.
    await checkSeat(tx, scope, plan);
    if (!(await memberships.addMember(tx, scope, principal.userId, invitation.role))) throw new ProblemError('already-member');
    await audit.recordAudit(tx, [
      auditEntry(ctx, { tenantId: invitation.tenant_id, action: AUDIT_ACTIONS.memberAdd, subject: `user:${principal.login}`, after: { role: invitation.role }, details: { invitation: invitation.id } }),
    ]);
    return { org: await organizations.getOrganization(tx, scope), role: invitation.role };
  });
  if (!org.org) throw notFound('organization');
  return { status: 200, body: organizationView(org.org, org.role, ROLE_PERMISSIONS[org.role]) };
};

export const organizationHandlers = {
  listOrganizations,
  getOrganization: async (ctx) => ({ status: 200, body: await organization(ctx) }),
  updateOrganization,
  listMembers,
  updateMember,
  removeMember,
  listInvitations,
  createInvitation,
  revokeInvitation,
  acceptInvitation,
} satisfies Record<string, Handler>;
