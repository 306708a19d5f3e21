/** What a route handler of the REST API gets and gives back. */
import type { AuditAction, AuditEntry, ApiRoute } from '@wharf/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiDeps } from './deps.js';
import type { Acting, Principal } from './auth/principal.js';

export interface HandlerContext {
  route: ApiRoute;
  req: FastifyRequest;
  reply: FastifyReply;
  deps: ApiDeps;
  principal: Principal | null;
  /** The organization acted for (every route but the public and the per-person ones). */
  acting: Acting | null;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  body: Record<string, unknown>;
  requestId: string;
  ip: string;
  /** Items per page and the decoded cursor are read by each list (it knows its cursor's shape). */
  limit: number;
  /** Aborted when the server starts to stop: a response that streams until the client leaves ends on it. */
  closing: AbortSignal;
}

export type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | { streamed: true };
export type Handler = (ctx: HandlerContext) => Promise<Answer>;

/** The organization of a handler that requires one (every organization-scoped route has it). */
export function actingOf(ctx: HandlerContext) {
  if (!ctx.acting) throw new Error(`${ctx.route.operationId} needs an organization`);
  return ctx.acting;
}

export function principalOf(ctx: HandlerContext) {
  if (!ctx.principal) throw new Error(`${ctx.route.operationId} needs a principal`);
  return ctx.principal;
}

/** An audit entry of this request: its organization, actor, request id and source address. */
export function auditEntry(
  ctx: HandlerContext,
  entry: { action: AuditAction; subject: string; reason?: string; details?: Record<string, unknown>; before?: unknown; after?: unknown; tenantId?: number },
): AuditEntry {
  const principal = principalOf(ctx);
  return {
    tenantId: entry.tenantId ?? actingOf(ctx).tenantId,
    actor: principal.actor,
    actorKind: principal.kind === 'key' ? 'key' : principal.via === 'local' ? 'local' : 'user',
    action: entry.action,
    subject: entry.subject,
    reason: entry.reason ?? `${ctx.req.method} ${ctx.req.url.split('?')[0]}`,
    details: entry.details ?? {},
    requestId: ctx.requestId,
    sourceIp: ctx.ip,
    ...(entry.before !== undefined ? { before: entry.before } : {}),
    ...(entry.after !== undefined ? { after: entry.after } : {}),
  };
}

export const idParam = (ctx: HandlerContext, name = 'id'): number => Number(ctx.params[name]);
