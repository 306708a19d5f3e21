/**
 * The agent API, under /agent/v1. Agents dial out to it; nothing here dials an agent.
 *   POST /register      a registration token → a new agent of the token's pool and its credential (shown once)
 *   GET  /desired       the agent's documents; long-poll: `?since=<set hash>` is held until they change (≤ 30 s)
 *   POST /status        reports, fenced by document hash, idempotent
 *   POST /credentials   a second credential (rotation); the caller's stays valid until the new one is first used
 * Every call but /register needs `Authorization: Bearer <credential>`; a missing, unknown or revoked one gets 401
 * `{"error":"unauthorized"}` and nothing else. Rate limited per agent (per address until the caller is known).
 */
import rateLimit from '@fastify/rate-limit';
import { AUDIT_ACTIONS, type AgentDocument, type AgentStatusReport, createCoalescer, validateAgentMessage } from '@wharf/contracts';
import { agentDocuments, agents, audit, type DatabasePool } from '@wharf/store';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AgentAuth, AgentIdentity } from './agent-auth.js';
import type { DesiredCache, DesiredSet } from './desired-cache.js';
import type { Liveness } from './liveness.js';
import { resolveEnvironment, type SecretResolver } from './resolve-secrets.js';

export interface AgentRoutesOptions {
  pool: DatabasePool;
  auth: AgentAuth;
  desired: DesiredCache;
  liveness: Liveness;
  resolveSecret: SecretResolver;
  holdMs: number;
  ratePerMinute: number;
  onReport?: (results: readonly agentDocuments.ReportResult[]) => void;
}

declare module 'fastify' {
  interface FastifyRequest {
    agent?: AgentIdentity;
  }
}

const UNAUTHORIZED = { error: 'unauthorized' } as const;
const unauthorized = (reply: FastifyReply) => reply.code(401).header('www-authenticate', 'Bearer').send(UNAUTHORIZED);
const badRequest = (reply: FastifyReply, errors: string[]) => reply.code(400).send({ error: 'invalid request', problems: errors });
const actor = (a: AgentIdentity) => `agent:${a.agentId}:${a.name}`;

export const agentRoutes: FastifyPluginAsync<AgentRoutesOptions> = async (app, options) => {
  const { pool, auth, desired, liveness } = options;
  // Reports of agents that answer together are recorded in one statement.
  const record = createCoalescer({
    delayMs: 2,
    maxBatch: 1_000,
    run: async (items: { agent: AgentIdentity; report: AgentStatusReport }[]) => agentDocuments.recordReportsOfAgents(pool, items),
  });

  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    timeWindow: 60_000,
    max: (req: FastifyRequest) => (auth.cached(req.headers.authorization) ? options.ratePerMinute : options.ratePerMinute * 10),
    keyGenerator: (req: FastifyRequest) => {
      const known = auth.cached(req.headers.authorization);
      return known ? `agent:${known.agentId}` : `ip:${req.ip}`;
    },
    errorResponseBuilder: (_req, context) => ({ statusCode: 429, error: 'rate limited', retryAfterMs: context.ttl }),
  });

  const authenticated = async (req: FastifyRequest, reply: FastifyReply) => {
    const agent = await auth.authenticate(req.headers.authorization);
    if (!agent) return unauthorized(reply);
    req.agent = agent;
    liveness.seen(agent.agentId);
  };

  app.post('/register', { bodyLimit: 16 * 1024 }, async (req, reply) => {
    const input = validateAgentMessage('AgentRegisterRequest', req.body);
    if (!input.ok) return badRequest(reply, input.errors);
    const result = await agents.registerAgentWithToken(pool, input.value);
    if (!result.ok) {
      if (result.problem === 'agent-limit') {
        const error = `the organization's plan (${result.plan}) allows ${result.limit} agent${result.limit === 1 ? '' : 's'}; revoke one (wharf agent revoke) or upgrade the plan`;
        return reply.code(403).send({ error });
      }
      const error = { unknown: 'unknown registration token', expired: 'registration token expired', revoked: 'registration token revoked' }[result.problem];
      return reply.code(401).send({ error });
    }
    const { agent } = result;
    await audit.recordAudit(pool, [
      {
        tenantId: agent.tenantId,
        actor: actor(agent),
        action: AUDIT_ACTIONS.agentRegister,
        subject: `agent:${agent.agentId}`,
        reason: `registered with token ${result.tokenId} into pool ${agent.pool}`,
        details: { pool: agent.pool, name: agent.name, hostname: input.value.hostname ?? null, address: req.ip },
      },
    ]);
    await agents.wakeUnplacedEnvironments(pool, { tenantId: agent.tenantId }, agent.pool);
    req.log.info({ agentId: agent.agentId, pool: agent.pool }, 'agent registered');
    return reply.code(201).send({ agentId: agent.agentId, name: agent.name, pool: agent.pool, credential: result.credential });
  });

  const answer = async (agent: AgentIdentity, set: DesiredSet, changed: boolean) => {
    const documents: AgentDocument[] = changed
      ? await Promise.all(
          set.documents.map(async (d) => ({
            environmentId: d.environment_id,
            hash: d.document_hash,
            generation: d.generation,
            deleting: d.deleting,
            ...(d.document && !d.deleting ? { workflowApp: d.document, ...(await resolveEnvironment(d.document, agent.tenantId, options.resolveSecret)) } : {}),
          })),
        )
      : [];
    return { hash: set.hash, changed, agent: { id: agent.agentId, name: agent.name, pool: agent.pool }, documents };
  };

  app.get<{ Querystring: { since?: string; wait?: string } }>('/desired', { onRequest: authenticated }, async (req, reply) => {
    const agent = req.agent!;
    const since = typeof req.query.since === 'string' ? req.query.since.slice(0, 100) : '';
    const hold = req.query.wait === '0' ? 0 : options.holdMs;
    // Subscribe before reading, so that a change between the read and the wait is not missed.
    let sub = desired.subscribe(agent.agentId);
    try {
      let set = await desired.get(agent);
      if (set.hash !== since || hold === 0) return answer(agent, set, set.hash !== since);
      const closed = new Promise<void>((resolve) => reply.raw.once('close', () => resolve()));
      const deadline = Date.now() + hold;
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()))));
        const why = await Promise.race([sub.changed.then(() => 'changed' as const), timeout, closed.then(() => 'closed' as const)]);
        clearTimeout(timer);
        if (why === 'closed') return reply;
        // Revoked while waiting? Every answer is to a caller that is still allowed.
        const still = await auth.authenticate(req.headers.authorization);
        if (!still) return unauthorized(reply);
        liveness.seen(agent.agentId);
        if (why === 'timeout') return answer(agent, set, false);
        sub.cancel();
        sub = desired.subscribe(agent.agentId);
        set = await desired.get(agent);
        if (set.hash !== since) return answer(agent, set, true);
      }
    } finally {
      sub.cancel();
    }
  });

  app.post('/status', { onRequest: authenticated, bodyLimit: 1024 * 1024 }, async (req, reply) => {
    const batch = validateAgentMessage('AgentStatusBatch', req.body);
    if (!batch.ok) return badRequest(reply, batch.errors);
    // One report per environment: the last one in the batch wins.
    const latest = new Map(batch.value.reports.map((r) => [r.environmentId, r]));
    const results = await Promise.all([...latest.values()].map((report) => record({ agent: req.agent!, report })));
    options.onReport?.(results.map((r) => r.result));
    return { results };
  });

  app.post('/credentials', { onRequest: authenticated, bodyLimit: 1024 }, async (req) => {
    const agent = req.agent!;
    const credential = await agents.rotateAgentCredential(pool, agent);
    await audit.recordAudit(pool, [
      { tenantId: agent.tenantId, actor: actor(agent), action: AUDIT_ACTIONS.agentRotate, subject: `agent:${agent.agentId}`, reason: 'credential rotated by the agent', details: { address: req.ip } },
    ]);
    return { credential };
  });
};
