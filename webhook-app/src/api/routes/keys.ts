/** API keys: created (the secret shown once), listed, rotated and revoked; revocation reaches every replica at once. */
import { AUDIT_ACTIONS, KEY_SCOPE_PERMISSIONS, type KeyScope, parseToken, PERMISSION_NAMES } from '@wharf/contracts';
import { apiKeys, audit, type CommonQueryMethods, repositories } from '@wharf/store';
import { hashSecret, newToken } from '../auth/secrets.js';
import { actingOf, auditEntry, type Handler, type HandlerContext, idParam, principalOf } from '../handler.js';
import { decodeCursor, pageOf } from '../http/pagination.js';
import { notFound, ProblemError } from '../http/problem-error.js';
import { apiKeyView } from '../views.js';

async function allowedRepositories(ctx: HandlerContext, ids: readonly number[] | null): Promise<readonly number[] | null> {
  const acting = actingOf(ctx);
  if (ids === null) {
    if (acting.repositoryIds) throw new ProblemError('validation-failed', 'a key limited to repositories can only make keys limited to them', { errors: [{ field: '/repositoryIds', message: 'is required' }] });
    return null;
  }
  for (const id of ids) {
    const known = (!acting.repositoryIds || acting.repositoryIds.includes(id)) && (await repositories.getRepository(ctx.deps.pool, { tenantId: acting.tenantId, repositoryId: id }));
    if (!known) throw new ProblemError('validation-failed', `no repository ${id} in this organization`, { errors: [{ field: '/repositoryIds', message: `no repository ${id}` }] });
  }
  return ids;
}

/** What the new key may do: its scopes' permissions that the caller holds here too. */
function permissionsFor(ctx: HandlerContext, scopes: readonly KeyScope[]): string[] {
  const acting = actingOf(ctx);
  const wanted = new Set(scopes.flatMap((s) => KEY_SCOPE_PERMISSIONS[s]));
  return PERMISSION_NAMES.filter((p) => wanted.has(p) && acting.permissions.has(p));
}

/** The person behind the request: a signed-in person, or whoever made the key that makes this one. */
async function creatorOf(ctx: HandlerContext, db: CommonQueryMethods): Promise<number | null> {
  const principal = principalOf(ctx);
  return principal.kind === 'user' ? principal.userId : apiKeys.keyCreatorId(db, actingOf(ctx), principal.keyId);
}

async function issue(ctx: HandlerContext, db: CommonQueryMethods, input: Omit<apiKeys.NewApiKey, 'prefix' | 'secretHash' | 'createdByUserId'>) {
  const secret = newToken('apiKey');
  const created = await apiKeys.createApiKey(db, actingOf(ctx), {
    ...input,
    createdByUserId: await creatorOf(ctx, db),
    prefix: parseToken(secret)?.display ?? secret.slice(0, 10),
    secretHash: hashSecret(ctx.deps.pepper, secret),
  });
  return { created, secret };
}

const createApiKey: Handler = async (ctx) => {
  const scopes = ctx.body.scopes as KeyScope[];
  const repositoryIds = await allowedRepositories(ctx, Array.isArray(ctx.body.repositoryIds) ? (ctx.body.repositoryIds as number[]) : null);
  const permissions = permissionsFor(ctx, scopes);
  if (permissions.length === 0) throw new ProblemError('permission-denied', 'you hold none of the permissions of those scopes');
  return ctx.deps.pool.transaction(async (tx) => {
    const { created, secret } = await issue(ctx, tx, {
      name: String(ctx.body.name),
      scopes,
      permissions,
      repositoryIds,
      createdBy: principalOf(ctx).actor,
      expiresInDays: typeof ctx.body.expiresInDays === 'number' ? ctx.body.expiresInDays : null,
    });
    await audit.recordAudit(tx, [
      auditEntry(ctx, { action: AUDIT_ACTIONS.keyCreate, subject: `api-key:${created.id}`, after: { name: created.name, prefix: created.prefix, scopes, repositoryIds } }),
    ]);
    return { status: 201, body: apiKeyView(created, secret) };
  });
};

const listApiKeys: Handler = async (ctx) => {
  const cursor = decodeCursor(ctx.query.cursor, ['n']);
  const rows = await apiKeys.listApiKeys(ctx.deps.pool, actingOf(ctx), { ...(cursor ? { beforeId: Number(cursor[0]) } : {}), limit: ctx.limit + 1 });
  return { status: 200, body: pageOf(rows, ctx.limit, (k) => apiKeyView(k), (k) => [k.id]) };
};

const getApiKey: Handler = async (ctx) => {
  const key = await apiKeys.getApiKey(ctx.deps.pool, actingOf(ctx), idParam(ctx));
  if (!key) throw notFound('API key');
  return { status: 200, body: apiKeyView(key) };
};

const revokeApiKey: Handler = async (ctx) => {
  const acting = actingOf(ctx);
  await ctx.deps.pool.transaction(async (tx) => {
    const key = await apiKeys.revokeApiKey(tx, acting, idParam(ctx));
    if (!key) throw notFound('API key');
    await audit.recordAudit(tx, [auditEntry(ctx, { action: AUDIT_ACTIONS.keyRevoke, subject: `api-key:${key.id}`, details: { prefix: key.prefix, name: key.name } })]);
  });
  ctx.deps.keys.forget(idParam(ctx));
  return { status: 204 };
};

const rotateApiKey: Handler = async (ctx) => {
  const acting = actingOf(ctx);
  const answer = await ctx.deps.pool.transaction(async (tx) => {
    const old = await apiKeys.getApiKey(tx, acting, idParam(ctx));
    if (!old || old.revoked_at !== null) throw notFound('API key');
    const days = old.expires_at ? Math.max(1, Math.ceil((Date.parse(old.expires_at) - Date.now()) / 86_400_000)) : null;
    const { created, secret } = await issue(ctx, tx, {
      name: old.name,
      scopes: old.scopes,
      permissions: old.permissions.filter((p) => acting.permissions.has(p as never)),
      repositoryIds: old.repository_ids,
      createdBy: principalOf(ctx).actor,
      expiresInDays: days,
      rotatedFrom: old.id,
    });
    await apiKeys.revokeApiKey(tx, acting, old.id);
    await audit.recordAudit(tx, [auditEntry(ctx, { action: AUDIT_ACTIONS.keyRotate, subject: `api-key:${old.id}`, after: { replacedBy: created.id, prefix: created.prefix } })]);
    return { status: 201, body: apiKeyView(created, secret) };
  });
  ctx.deps.keys.forget(idParam(ctx));
  return answer;
};

export const keyHandlers = { createApiKey, listApiKeys, getApiKey, revokeApiKey, rotateApiKey } satisfies Record<string, Handler>;
