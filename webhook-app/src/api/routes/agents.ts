/**
 * Pull agents through the REST API: registration tokens (created with the secret shown once, listed, revoked) and
 * the agents that registered with them (listed with their liveness and environments, revoked). Every read and write
 * names the organization acted for: another organization's ids answer 404, as ids that do not exist do.
 */
import { AUDIT_ACTIONS } from '@wharf/contracts';
import { agents, audit } from '@wharf/store';
import { actingOf, auditEntry, type Handler, type HandlerContext, idParam, principalOf } from '../handler.js';
import { decodeCursor, pageOf } from '../http/pagination.js';
import { notFound } from '../http/problem-error.js';
import { agentView, registrationTokenView } from '../views.js';

const DEFAULT_TOKEN_TTL_SECONDS = 86_400;

async function agentViews(ctx: HandlerContext, rows: readonly agents.Agent[]) {
  const placed = await agents.listPlacedEnvironments(ctx.deps.pool, actingOf(ctx), rows.map((a) => a.id));
  const now = new Date();
  return rows.map((a) => agentView(a, placed, now, ctx.deps.agentLiveness));
}

const listAgents: Handler = async (ctx) => {
  const cursor = decodeCursor(ctx.query.cursor, ['n']);
  const rows = await agents.pageAgents(ctx.deps.pool, actingOf(ctx), {
    limit: ctx.limit + 1,
    includeRevoked: ctx.query.revoked === 'true',
    ...(ctx.query.pool ? { pool: ctx.query.pool } : {}),
    ...(cursor ? { beforeId: Number(cursor[0]) } : {}),
  });
  const page = pageOf(rows, ctx.limit, (a) => a, (a) => [a.id]);
  return { status: 200, body: { ...page, items: await agentViews(ctx, page.items) } };
};

const getAgent: Handler = async (ctx) => {
  const agent = await agents.getAgent(ctx.deps.pool, actingOf(ctx), idParam(ctx));
  if (!agent) throw notFound('agent');
  const [view] = await agentViews(ctx, [agent]);
  return { status: 200, body: view };
};

const revokeAgent: Handler = async (ctx) => {
  const acting = actingOf(ctx);
  await ctx.deps.pool.transaction(async (tx) => {
    const agent = await agents.getAgent(tx, acting, idParam(ctx));
    if (!agent || !(await agents.revokeAgent(tx, acting, agent.id))) throw notFound('agent');
    await audit.recordAudit(tx, [auditEntry(ctx, { action: AUDIT_ACTIONS.agentRevoke, subject: `agent:${agent.id}`, details: { name: agent.name, pool: agent.pool } })]);
  });
  return { status: 204 };
};

const listAgentTokens: Handler = async (ctx) => {
  const cursor = decodeCursor(ctx.query.cursor, ['n']);
  const rows = await agents.listRegistrationTokens(ctx.deps.pool, actingOf(ctx), { limit: ctx.limit + 1, ...(cursor ? { beforeId: Number(cursor[0]) } : {}) });
  const now = new Date();
  return { status: 200, body: pageOf(rows, ctx.limit, (r) => registrationTokenView(r, now), (r) => [r.id]) };
};

const createAgentToken: Handler = async (ctx) => {
  const pool = String(ctx.body.pool);
  const ttlSeconds = typeof ctx.body.ttlSeconds === 'number' ? ctx.body.ttlSeconds : DEFAULT_TOKEN_TTL_SECONDS;
  return ctx.deps.pool.transaction(async (tx) => {
    const made = await agents.createRegistrationToken(tx, actingOf(ctx), { pool, ttlMs: ttlSeconds * 1000, createdBy: principalOf(ctx).actor });
    await audit.recordAudit(tx, [
      auditEntry(ctx, { action: AUDIT_ACTIONS.agentTokenCreate, subject: `agent-token:${made.row.id}`, details: { pool, expiresAt: made.row.expires_at } }),
    ]);
    return { status: 201, body: registrationTokenView(made.row, new Date(), made.token) };
  });
};

const revokeAgentToken: Handler = async (ctx) => {
  const acting = actingOf(ctx);
  await ctx.deps.pool.transaction(async (tx) => {
    const token = await agents.getRegistrationToken(tx, acting, idParam(ctx));
    if (!token || !(await agents.revokeRegistrationToken(tx, acting, token.id))) throw notFound('registration token');
    await audit.recordAudit(tx, [auditEntry(ctx, { action: AUDIT_ACTIONS.agentTokenRevoke, subject: `agent-token:${token.id}`, details: { pool: token.pool } })]);
  });
  return { status: 204 };
};

export const agentHandlers = { listAgents, getAgent, revokeAgent, listAgentTokens, createAgentToken, revokeAgentToken } satisfies Record<string, Handler>;
