/**
 * api_keys: organization-scoped keys for scripts and CI. Only an HMAC of the secret is stored. Listing and revoking
 * name the organization; `findActiveKeyByHash` is the one lookup across organizations, because the secret itself
 * says which key (and so which organization) it is.
 */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, parseOne, parseRow, parseRows } from './rows.js';
import type { RestrictedScope, TenantScope } from './scope.js';

export const ApiKey = z.object({
  id: int8,
  tenant_id: int8,
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  permissions: z.array(z.string()),
  repository_ids: z.array(int8).nullable(),
  created_by: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});
export type ApiKey = z.infer<typeof ApiKey>;

const columns = sql.fragment`id, tenant_id, name, prefix, scopes, permissions, repository_ids, created_by, created_at, last_used_at, expires_at, revoked_at`;

export interface NewApiKey {
  name: string;
  prefix: string;
  secretHash: Buffer;
  scopes: readonly string[];
  permissions: readonly string[];
  repositoryIds: readonly number[] | null;
  createdBy: string;
  /** The person who made it (directly, or through a key they made): their leaving or demotion reaches the key. */
  createdByUserId?: number | null;
  expiresInDays: number | null;
  rotatedFrom?: number;
}

export async function createApiKey(db: CommonQueryMethods, scope: TenantScope, input: NewApiKey): Promise<ApiKey> {
  return db
    .one(sql.type(ApiKey)`
    INSERT INTO api_keys (tenant_id, name, prefix, secret_hash, scopes, permissions, repository_ids, created_by, created_by_user_id, expires_at, rotated_from)
    VALUES (${scope.tenantId}, ${input.name}, ${input.prefix}, ${sql.binary(input.secretHash)}, ${sql.array([...input.scopes], 'text')},
      ${sql.array([...input.permissions], 'text')}, ${input.repositoryIds ? sql.array([...input.repositoryIds], 'int8') : null}, ${input.createdBy},
      ${input.createdByUserId ?? null},
      ${input.expiresInDays === null ? null : sql.fragment`now() + make_interval(days => ${input.expiresInDays})`}, ${input.rotatedFrom ?? null})
    RETURNING ${columns}`)
    .then(parseOne(ApiKey));
}

/**
 * The organization's keys, or, for a scope limited to repositories (a key limited to them), only the keys limited to
 * some of those repositories: a key never sees, rotates or revokes a key that reaches further than itself.
 */
const keyFilter = (scope: RestrictedScope) =>
  scope.repositoryIds
    ? sql.fragment`tenant_id = ${scope.tenantId} AND repository_ids IS NOT NULL AND repository_ids <@ ${sql.array([...scope.repositoryIds], 'int8')}`
    : sql.fragment`tenant_id = ${scope.tenantId}`;

export async function listApiKeys(db: CommonQueryMethods, scope: RestrictedScope, page: { beforeId?: number; limit: number }): Promise<readonly ApiKey[]> {
  return db
    .any(sql.type(ApiKey)`
    SELECT ${columns} FROM api_keys WHERE ${keyFilter(scope)} ${page.beforeId ? sql.fragment`AND id < ${page.beforeId}` : sql.fragment``}
    ORDER BY id DESC LIMIT ${page.limit}`)
    .then(parseRows(ApiKey));
}

export async function getApiKey(db: CommonQueryMethods, scope: RestrictedScope, id: number): Promise<ApiKey | null> {
  return db.maybeOne(sql.type(ApiKey)`SELECT ${columns} FROM api_keys WHERE ${keyFilter(scope)} AND id = ${id}`).then(parseRow(ApiKey));
}

/** Revokes a key (idempotent); the NOTIFY drops it from every replica's cache. Null when the scope has no such key. */
export async function revokeApiKey(db: CommonQueryMethods, scope: RestrictedScope, id: number): Promise<ApiKey | null> {
  const key = await db
    .maybeOne(sql.type(ApiKey)`
    UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE ${keyFilter(scope)} AND id = ${id} RETURNING ${columns}`)
    .then(parseRow(ApiKey));
  if (key) await db.query(sql.unsafe`SELECT pg_notify(${API_KEYS_CHANNEL}, ${String(key.id)})`);
  return key;
}

export const API_KEYS_CHANNEL = 'wharf_api_keys' as const;

const notifyChanged = async (db: CommonQueryMethods, keys: readonly ApiKey[]) => {
  for (const key of keys) await db.query(sql.unsafe`SELECT pg_notify(${API_KEYS_CHANNEL}, ${String(key.id)})`);
};

/** Who made a key (the person behind a key that makes keys), or null for keys made before it was recorded. */
export async function keyCreatorId(db: CommonQueryMethods, scope: TenantScope, id: number): Promise<number | null> {
  const Row = z.object({ created_by_user_id: int8.nullable() });
  const row = await db.maybeOne(sql.type(Row)`SELECT created_by_user_id FROM api_keys WHERE tenant_id = ${scope.tenantId} AND id = ${id}`).then(parseRow(Row));
  return row?.created_by_user_id ?? null;
}

/** Revokes the active keys `userId` made in this organization (they left it); the NOTIFY reaches every replica. */
export async function revokeKeysOfCreator(db: CommonQueryMethods, scope: TenantScope, userId: number): Promise<readonly ApiKey[]> {
  const keys = await db
    .any(sql.type(ApiKey)`
    UPDATE api_keys SET revoked_at = now() WHERE tenant_id = ${scope.tenantId} AND created_by_user_id = ${userId} AND revoked_at IS NULL
    RETURNING ${columns}`)
    .then(parseRows(ApiKey));
  await notifyChanged(db, keys);
  return keys;
}

/**
 * Caps the permissions of the active keys `userId` made in this organization to `allowed` (their new role's): a key
 * never holds more than its creator. A key left with no permission is revoked.
 */
export async function capKeysOfCreator(
  db: CommonQueryMethods,
  scope: TenantScope,
  userId: number,
  allowed: readonly string[],
): Promise<{ capped: readonly ApiKey[]; revoked: readonly ApiKey[] }> {
  const list = sql.array([...allowed], 'text');
  const changed = await db
    .any(sql.type(ApiKey)`
    UPDATE api_keys SET permissions = ARRAY(SELECT p FROM unnest(permissions) WITH ORDINALITY AS x(p, n) WHERE p = ANY(${list}) ORDER BY n)
    WHERE tenant_id = ${scope.tenantId} AND created_by_user_id = ${userId} AND revoked_at IS NULL AND NOT (permissions <@ ${list})
    RETURNING ${columns}`)
    .then(parseRows(ApiKey));
  const empty = changed.filter((k) => k.permissions.length === 0).map((k) => k.id);
  const revoked =
    empty.length === 0
      ? []
      : await db
          .any(sql.type(ApiKey)`UPDATE api_keys SET revoked_at = now() WHERE tenant_id = ${scope.tenantId} AND id = ANY(${sql.array(empty, 'int8')}) RETURNING ${columns}`)
          .then(parseRows(ApiKey));
  await notifyChanged(db, changed);
  return { capped: changed.filter((k) => k.permissions.length > 0), revoked };
}

export const ActiveKey = ApiKey.extend({ expired: z.boolean(), plan: z.string(), slug: z.string() });
export type ActiveKey = z.infer<typeof ActiveKey>;

/** The key whose secret hashes to `hash`, with its organization's plan; revoked keys are not found. */
export async function findActiveKeyByHash(db: CommonQueryMethods, hash: Buffer): Promise<ActiveKey | null> {
  return db
    .maybeOne(sql.type(ActiveKey)`
    SELECT k.id, k.tenant_id, k.name, k.prefix, k.scopes, k.permissions, k.repository_ids, k.created_by, k.created_at, k.last_used_at,
           k.expires_at, k.revoked_at, (k.expires_at IS NOT NULL AND k.expires_at <= now()) AS expired, t.plan, t.slug
    FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
    WHERE k.secret_hash = ${sql.binary(hash)} AND k.revoked_at IS NULL`)
    .then(parseRow(ActiveKey));
}

/** Records when keys were last used, many at once (the API batches these: one write per second, not per request). */
export async function touchApiKeys(db: CommonQueryMethods, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(sql.unsafe`UPDATE api_keys SET last_used_at = now() WHERE id = ANY(${sql.array([...ids], 'int8')})`);
}
