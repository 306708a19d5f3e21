/**
 * `/dashboard/api/…`: what the page needs that `/api/v1` does not offer yet (each is a candidate for the public API;
 * docs/dashboard.md lists them): who last deployed each environment, pull requests with checks and fork approval,
 * the billing period's usage, and an environment's request and error rates. Same sign-in, roles, CSRF, rate limits
 * and problem+json errors as the API.
 */
import { AUDIT_ACTIONS, mayApproveForkPreview, type Permission } from '@wharf/contracts';
import { audit, dashboardViews, type DatabasePool, environmentViews, pullRequests, repositories } from '@wharf/store';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound, ProblemError } from '../../api/http/problem-error.js';
import { type BrowserAuthDeps, type BrowserCaller, browserCaller, sendProblem } from '../browser-auth.js';
import type { MetricsSampler } from '../metrics/metrics-sampler.js';
import { billingPeriod } from './billing-period.js';

export const DASHBOARD_API_PREFIX = '/dashboard/api';

export interface DashboardApiDeps extends BrowserAuthDeps {
  pool: DatabasePool;
  metrics: MetricsSampler;
  now?: () => Date;
}

const ID = /^[1-9][0-9]{0,15}$/;
/** A full commit sha (SHA-1 or SHA-256). */
const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const idOf = (value: unknown, what: string): number => {
  if (typeof value !== 'string' || !ID.test(value)) throw notFound(what);
  return Number(value);
};
const scopeOf = (caller: BrowserCaller) => ({ tenantId: caller.acting.tenantId, repositoryIds: caller.acting.repositoryIds });

type Route = (req: FastifyRequest, caller: BrowserCaller) => Promise<{ status?: number; body: unknown }>;

export function registerDashboardApi(app: FastifyInstance, deps: DashboardApiDeps): void {
  const now = deps.now ?? (() => new Date());
  const route = (method: 'GET' | 'POST', url: string, needs: Permission, handler: Route) =>
    app.route({
      method,
      url: `${DASHBOARD_API_PREFIX}${url}`,
      bodyLimit: 4_096,
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        try {
          const caller = await browserCaller(req, deps, needs);
          const answer = await handler(req, caller);
          return reply.code(answer.status ?? 200).header('cache-control', 'private, no-store').send(answer.body);
        } catch (err) {
          if (!(err instanceof ProblemError)) req.log.error({ err }, 'dashboard request failed');
          return sendProblem(reply, err);
        }
      },
    });

  route('GET', '/deployers', 'environments:read', async (_req, caller) => {
    const rows = await dashboardViews.listLastDeployers(deps.pool, scopeOf(caller));
    return { body: { items: rows.map((r) => ({ environmentId: r.environment_id, actor: r.actor, action: r.action, at: r.at })) } };
  });

  route('GET', '/pull-requests', 'repositories:read', async (_req, caller) => {
    const rows = await dashboardViews.listPullRequestSummaries(deps.pool, scopeOf(caller));
    return {
      body: {
        items: rows.map((p) => ({
          repositoryId: p.repository_id,
          repository: p.repository,
          provider: p.provider,
          number: p.number,
          state: p.state,
          title: p.title,
          headSha: p.head_sha,
          headRef: p.head_ref,
          baseRef: p.base_ref,
          fork: p.fork,
          draft: p.draft,
          author: p.author,
          approval: !p.fork ? 'not-needed' : p.approved_sha === p.head_sha ? 'approved' : 'needed',
          approvedBy: p.approved_sha === p.head_sha ? p.approved_by : null,
          updatedAt: p.updated_at,
          checks: p.checks,
          previews: p.previews,
        })),
      },
    };
  });

  route('POST', '/pull-requests/:repositoryId/:number/approve', 'environments:deploy', async (req, caller) => {
    const params = req.params as Record<string, string>;
    const scope = { tenantId: caller.acting.tenantId, repositoryId: idOf(params.repositoryId, 'pull request') };
    const number = idOf(params.number, 'pull request');
    if (caller.acting.repositoryIds && !caller.acting.repositoryIds.includes(scope.repositoryId)) throw notFound('pull request');
    const sha = (req.body as { sha?: unknown } | null | undefined)?.sha;
    if (typeof sha !== 'string' || !SHA.test(sha)) {
      throw new ProblemError('validation-failed', 'send the sha of the head you reviewed: { "sha": "<40 hex characters>" }', { errors: [{ field: '/sha', message: 'is required: a full commit sha' }] });
    }
    const repository = await repositories.getRepository(deps.pool, scope);
    const pr = repository ? await pullRequests.getPullRequest(deps.pool, scope, number) : null;
    if (!repository || !pr) throw notFound('pull request');
    if (pr.state !== 'open') throw new ProblemError('validation-failed', `#${number} is ${pr.state}: only an open pull request's preview can be approved`);
    if (!pr.fork) throw new ProblemError('validation-failed', `#${number} comes from a branch of ${repository.full_name}: its preview needs no approval`);
    if (!mayApproveForkPreview(caller.acting.role)) {
      throw new ProblemError('permission-denied', "approving a fork's preview here needs the owner or admin role (on GitHub: write access to the repository)");
    }
    const moved = (head: string) => new ProblemError('pull-request-moved', `the pull request moved to ${head.slice(0, 7)}; review it again`);
    if (pr.head_sha !== sha) throw moved(pr.head_sha);
    if (pr.approved_sha === sha) return { body: { approved: true, changed: false, sha, by: pr.approved_by } };
    await deps.pool.transaction(async (tx) => {
      // The head is checked again in the write: a push between the read above and now is not approved.
      if (!(await pullRequests.approvePreviewOfHead(tx, scope, number, sha, caller.login))) {
        throw moved((await pullRequests.getPullRequest(tx, scope, number))?.head_sha ?? 'a new head');
      }
      await audit.recordAudit(tx, [
        {
          tenantId: scope.tenantId,
          actor: caller.actor,
          action: AUDIT_ACTIONS.approvePreview,
          subject: `pull-request:${repository.full_name}#${number}`,
          reason: `preview of ${sha.slice(0, 7)} approved in the dashboard`,
          details: { sha, fork: true },
          requestId: String(req.id),
          sourceIp: req.ip,
        },
      ]);
    });
    return { body: { approved: true, changed: true, sha, by: caller.login } };
  });

  route('GET', '/usage', 'organization:read', async (_req, caller) => {
    const period = billingPeriod(now());
    const u = await dashboardViews.periodUsage(deps.pool, scopeOf(caller), period.start);
    return {
      body: {
        plan: caller.acting.plan,
        period: { start: period.start.toISOString(), end: period.end.toISOString(), elapsed: period.elapsed },
        counts: { productionEnvironments: u.production_environments, previewEnvironments: u.preview_environments, seats: u.members },
        usage: { deploys: u.deploys, productionEnvironmentHours: u.production_hours, previewEnvironmentHours: u.preview_hours },
        days: u.days,
      },
    };
  });

  route('GET', '/environments/:id/metrics', 'environments:read', async (req, caller) => {
    const id = idOf((req.params as Record<string, string>).id, 'environment');
    const env = await environmentViews.getEnvironment(deps.pool, scopeOf(caller), id);
    if (!env) throw notFound('environment');
    return { body: { environmentId: id, ...deps.metrics.series(id, env.url) } };
  });
}
