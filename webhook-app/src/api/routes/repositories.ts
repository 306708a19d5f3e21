/** Repositories, apps and versions of the organization (only the allowed repositories for a restricted key). */
import { environmentViews, repositories, versions } from '@wharf/store';
import { actingOf, type Handler, type HandlerContext, idParam } from '../handler.js';
import { decodeCursor, pageOf } from '../http/pagination.js';
import { notFound } from '../http/problem-error.js';
import { repositoryView, versionView } from '../views.js';

const scopeOf = (ctx: HandlerContext) => {
  const acting = actingOf(ctx);
  return { tenantId: acting.tenantId, repositoryIds: acting.repositoryIds };
};

const listRepositories: Handler = async (ctx) => {
  const cursor = decodeCursor(ctx.query.cursor, ['n']);
  const rows = await repositories.listRepositoryPage(ctx.deps.pool, scopeOf(ctx), { ...(cursor ? { afterId: Number(cursor[0]) } : {}), limit: ctx.limit + 1 });
  return { status: 200, body: pageOf(rows, ctx.limit, repositoryView, (r) => [r.id]) };
};

const getRepository: Handler = async (ctx) => {
  const scope = scopeOf(ctx);
  const id = idParam(ctx);
  const repo = scope.repositoryIds && !scope.repositoryIds.includes(id) ? null : await repositories.getRepository(ctx.deps.pool, { tenantId: scope.tenantId, repositoryId: id });
  if (!repo) throw notFound('repository');
  return { status: 200, body: repositoryView(repo) };
};

const listApps: Handler = async (ctx) => {
  const cursor = decodeCursor(ctx.query.cursor, ['n', 's']);
  const rows = await environmentViews.listApps(ctx.deps.pool, scopeOf(ctx), {
    ...(cursor ? { after: { repositoryId: Number(cursor[0]), app: String(cursor[1]) } } : {}),
    limit: ctx.limit + 1,
  });
  return {
    status: 200,
    body: pageOf(rows, ctx.limit, (a) => ({ repositoryId: a.repository_id, repository: a.repository, name: a.app, environments: a.environments }), (a) => [a.repository_id, a.app]),
  };
};

const listVersions: Handler = async (ctx) => {
  const cursor = decodeCursor(ctx.query.cursor, ['n']);
  const scope = scopeOf(ctx);
  const rows = await versions.listVersionPage(
    ctx.deps.pool,
    scope,
    { ...(ctx.query.repository ? { repositoryId: Number(ctx.query.repository) } : {}), ...(ctx.query.valid ? { valid: ctx.query.valid === 'true' } : {}) },
    { ...(cursor ? { beforeId: Number(cursor[0]) } : {}), limit: ctx.limit + 1 },
  );
  const apps = await versions.listAppsOfVersions(ctx.deps.pool, scope, rows.slice(0, ctx.limit).map((v) => v.id));
  return { status: 200, body: pageOf(rows, ctx.limit, (v) => versionView(v, apps.filter((a) => a.version_id === v.id)), (v) => [v.id]) };
};

const getVersion: Handler = async (ctx) => {
  const scope = scopeOf(ctx);
  const version = await versions.getVersion(ctx.deps.pool, scope, idParam(ctx));
  if (!version || (scope.repositoryIds && !scope.repositoryIds.includes(version.repository_id))) throw notFound('version');
  return { status: 200, body: versionView(version, await versions.listVersionApps(ctx.deps.pool, scope, version.id)) };
};

export const repositoryHandlers = { listRepositories, getRepository, listApps, listVersions, getVersion } satisfies Record<string, Handler>;
