/** Environments: list with status, one, history, diff, logs, suspend/resume, redeploy, rollback. */
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { AUDIT_ACTIONS, plan, renderPlan, type WorkflowAppSpec } from '@wharf/contracts';
import { audit, desiredState, environmentViews, history } from '@wharf/store';
import { actingOf, auditEntry, type Handler, type HandlerContext, idParam, principalOf } from '../handler.js';
import { decodeCursor, pageOf } from '../http/pagination.js';
import { notFound, ProblemError } from '../http/problem-error.js';
import { resolveRollback } from '../rollback.js';
import { environmentView, rolloutView } from '../views.js';

const scopeOf = (ctx: HandlerContext) => {
  const acting = actingOf(ctx);
  return { tenantId: acting.tenantId, repositoryIds: acting.repositoryIds };
};

async function environment(ctx: HandlerContext) {
  const env = await environmentViews.getEnvironment(ctx.deps.pool, scopeOf(ctx), idParam(ctx));
  if (!env) throw notFound('environment');
  return env;
}

const listEnvironments: Handler = async (ctx) => {
  const cursor = decodeCursor(ctx.query.cursor, ['s', 's', 'n']);
  const rows = await environmentViews.listEnvironmentPage(
    ctx.deps.pool,
    scopeOf(ctx),
    {
      ...(ctx.query.app ? { app: ctx.query.app } : {}),
      ...(ctx.query.name ? { name: ctx.query.name } : {}),
      ...(ctx.query.repository ? { repositoryId: Number(ctx.query.repository) } : {}),
    },
    { ...(cursor ? { after: { app: String(cursor[0]), name: String(cursor[1]), id: Number(cursor[2]) } } : {}), limit: ctx.limit + 1 },
  );
  return { status: 200, body: pageOf(rows, ctx.limit, environmentView, (e) => [e.app, e.name, e.id]) };
};

const listEnvironmentHistory: Handler = async (ctx) => {
  const env = await environment(ctx);
  const cursor = decodeCursor(ctx.query.cursor, ['n']);
  const rows = await history.listRolloutPage(ctx.deps.pool, scopeOf(ctx), env.id, { ...(cursor ? { beforeId: Number(cursor[0]) } : {}), limit: ctx.limit + 1 });
  return { status: 200, body: pageOf(rows, ctx.limit, rolloutView, (r) => [r.id]) };
};

const getEnvironmentDiff: Handler = async (ctx) => {
  const e = await environment(ctx);
  const p = plan(
    { generation: e.generation, digest: e.desired_digest, spec: (e.desired_spec ?? null) as WorkflowAppSpec | null, deletionRequested: e.deletion_requested },
    { generation: e.observed_generation, digest: e.observed_digest, spec: (e.observed_spec ?? null) as WorkflowAppSpec | null, runtime: null },
  );
  return { status: 200, body: { environmentId: e.id, app: e.app, environment: e.name, plan: p, text: renderPlan(p, { title: `${e.app}/${e.name}` }) } };
};

const streamEnvironmentLogs: Handler = async (ctx) => {
  const e = await environment(ctx);
  const abort = new AbortController();
  const follow = ctx.query.follow === '1' || ctx.query.follow === 'true';
  const tail = ctx.query.lines !== undefined ? Number(ctx.query.lines) : undefined;
  const lines = ctx.deps.logs?.(e, { follow, signal: abort.signal, ...(tail !== undefined ? { tail } : {}) }) ?? null;
  if (!lines) throw new ProblemError('logs-unavailable', `${e.app}/${e.name} runs on the ${e.target} target; this control plane does not read its logs`);
  const stop = () => abort.abort();
  ctx.req.raw.on('close', stop);
  // A followed log never ends by itself: the server stopping ends it.
  if (ctx.closing.aborted) stop();
  else ctx.closing.addEventListener('abort', stop, { once: true });
  ctx.req.raw.once('close', () => ctx.closing.removeEventListener('abort', stop));
  async function* ndjson() {
    try {
      for await (const l of lines ?? []) yield `${JSON.stringify({ at: l.at, stream: l.stream, line: l.line })}\n`;
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
  }
  await ctx.reply.code(200).header('cache-control', 'no-store').type('application/x-ndjson').send(Readable.from(ndjson()));
  return { streamed: true };
};

async function setSuspended(ctx: HandlerContext, suspended: boolean) {
  const e = await environment(ctx);
  const scope = scopeOf(ctx);
  if (e.suspended === suspended) return { status: 200, body: { environment: environmentView(e), changed: false } };
  await ctx.deps.pool.transaction(async (tx) => {
    await desiredState.setSuspended(tx, scope, e.id, suspended);
    await audit.recordAudit(tx, [
      auditEntry(ctx, {
        action: suspended ? AUDIT_ACTIONS.suspend : AUDIT_ACTIONS.resume,
        subject: `environment:${e.id}`,
        reason: typeof ctx.body.reason === 'string' ? ctx.body.reason : `${suspended ? 'suspend' : 'resume'} through the API`,
        details: { app: e.app, environment: e.name },
        before: { suspended: e.suspended },
        after: { suspended },
      }),
    ]);
  });
  return { status: 200, body: { environment: environmentView((await environmentViews.getEnvironment(ctx.deps.pool, scope, e.id)) ?? e), changed: true } };
}

const redeployEnvironment: Handler = async (ctx) => {
  const e = await environment(ctx);
  const scope = scopeOf(ctx);
  const generation = await ctx.deps.pool.transaction(async (tx) => {
    const g = await desiredState.bumpGeneration(tx, scope, e.id);
    if (g === null) throw new ProblemError('rollback-unavailable', `${e.app}/${e.name} has no version to deploy again yet`);
    await audit.recordAudit(tx, [
      auditEntry(ctx, {
        action: AUDIT_ACTIONS.redeploy,
        subject: `environment:${e.id}`,
        reason: typeof ctx.body.reason === 'string' ? ctx.body.reason : 'redeploy through the API',
        details: { app: e.app, environment: e.name, generation: g },
      }),
    ]);
    return g;
  });
  const after = await environmentViews.getEnvironment(ctx.deps.pool, scope, e.id);
  return { status: 202, body: { environment: environmentView(after ?? e), generation } };
};

/**
 * What makes a retried rollback queue nothing twice. The outbox deduplicates across every tenant, so the key names the
 * tenant and environment, and never takes the client's X-Request-Id: a fresh UUID, or the caller's Idempotency-Key
 * (hashed with who sent it) so that a retry after a lost answer finds the first request's pull request.
 */
function rollbackDedupeKey(ctx: HandlerContext, environmentId: number): string {
  const given = ctx.req.headers['idempotency-key'];
  const principal = principalOf(ctx);
  const who = principal.kind === 'key' ? `key:${principal.keyId}` : `user:${principal.userId}`;
  const retry = typeof given === 'string' && given.length > 0 ? createHash('sha256').update(`${who}\n${given}`).digest('hex') : randomUUID();
  return `api-rollback:${actingOf(ctx).tenantId}:${environmentId}:${retry}`;
}

const rollbackEnvironment: Handler = async (ctx) => {
  const e = await environment(ctx);
  const scope = scopeOf(ctx);
  const { repository, version, branch } = await resolveRollback(ctx.deps.pool, scope, e, String(ctx.body.version));
  const principal = principalOf(ctx);
  const entry = auditEntry(ctx, { action: AUDIT_ACTIONS.rollbackRequest, subject: `environment:${e.id}` });
  const result = await ctx.deps.rollback.rollback({
    repository,
    environment: e,
    version,
    branch,
    requestedBy: principal.actor,
    reason: typeof ctx.body.reason === 'string' ? ctx.body.reason : `roll ${e.app}/${e.name} back to ${version.sha.slice(0, 7)}`,
    audit: { tenantId: entry.tenantId, actor: entry.actor, actorKind: entry.actorKind, requestId: entry.requestId, sourceIp: entry.sourceIp },
    dedupeKey: rollbackDedupeKey(ctx, e.id),
  });
  return { status: 202, body: { mode: result.mode, environmentId: e.id, toSha: version.sha, branch, commit: result.commit, status: result.status } };
};

export const environmentHandlers = {
  listEnvironments,
  getEnvironment: async (ctx) => ({ status: 200, body: environmentView(await environment(ctx)) }),
  listEnvironmentHistory,
  getEnvironmentDiff,
  streamEnvironmentLogs,
  suspendEnvironment: (ctx) => setSuspended(ctx, true),
  resumeEnvironment: (ctx) => setSuspended(ctx, false),
  redeployEnvironment,
  rollbackEnvironment,
} satisfies Record<string, Handler>;
