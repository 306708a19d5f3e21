/**
 * versions (one row per commit seen) and version_apps (their per-app results). Written by @wharf/source; read by the
 * GitHub App, the CLI and the API, always within one repository of one tenant.
 */
import { rollbackText } from '@wharf/contracts';
import { sql, type CommonQueryMethods, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import { int8, jsonb, parseOne, parseRow, parseRows, SpecColumn } from './rows.js';
import { repositoryFilter, type RepositoryScope, restrictedFilter, type RestrictedScope, type TenantScope } from './scope.js';

const json = z.any();

export const Version = z.object({
  id: int8,
  tenant_id: int8,
  repository_id: int8,
  sha: z.string(),
  parent_sha: z.string().nullable(),
  ref: z.string().nullable(),
  author: z.string().nullable(),
  message: z.string().nullable(),
  committed_at: z.string().nullable(),
  valid: z.boolean(),
  diagnostics: json,
  manifest: json,
  reachable: z.boolean(),
  created_at: z.string(),
});
export type Version = z.infer<typeof Version>;

export const VersionApp = z.object({
  version_id: int8,
  app: z.string(),
  digest: z.string(),
  valid: z.boolean(),
  diagnostics: json,
  spec: SpecColumn,
  carried_from_version_id: int8.nullable(),
  rollback_of_version_id: int8.nullable(),
});
export type VersionApp = z.infer<typeof VersionApp>;

const versionColumns = sql.fragment`id, tenant_id, repository_id, sha, parent_sha, ref, author, message, committed_at, valid,
  diagnostics, manifest, reachable, created_at`;
const appColumns = sql.fragment`version_id, app, digest, valid, diagnostics, spec, carried_from_version_id, rollback_of_version_id`;

export async function findVersion(db: CommonQueryMethods, scope: RepositoryScope, sha: string): Promise<Version | null> {
  return db.maybeOne(sql.type(Version)`SELECT ${versionColumns} FROM versions WHERE ${repositoryFilter(scope)} AND sha = ${sha}`).then(parseRow(Version));
}

export async function getVersion(db: CommonQueryMethods, scope: TenantScope, id: number): Promise<Version | null> {
  return db.maybeOne(sql.type(Version)`SELECT ${versionColumns} FROM versions WHERE tenant_id = ${scope.tenantId} AND id = ${id}`).then(parseRow(Version));
}

export async function listVersions(db: CommonQueryMethods, scope: RepositoryScope): Promise<readonly Version[]> {
  return db.any(sql.type(Version)`SELECT ${versionColumns} FROM versions WHERE ${repositoryFilter(scope)} ORDER BY id`).then(parseRows(Version));
}

export async function listVersionApps(db: CommonQueryMethods, scope: TenantScope, versionId: number): Promise<readonly VersionApp[]> {
  return db
    .any(sql.type(VersionApp)`SELECT ${appColumns} FROM version_apps WHERE tenant_id = ${scope.tenantId} AND version_id = ${versionId} ORDER BY app`)
    .then(parseRows(VersionApp));
}

/** A valid-or-not version by sha prefix (at least 7 characters), newest first: the target of `/wharf rollback <sha>`. */
export async function findVersionBySha(
  db: CommonQueryMethods,
  scope: RepositoryScope,
  shaPrefix: string,
): Promise<{ id: number; sha: string; valid: boolean } | null> {
  const Found = z.object({ id: int8, sha: z.string(), valid: z.boolean() });
  return db
    .maybeOne(sql.type(Found)`
    SELECT id, sha, valid FROM versions WHERE ${repositoryFilter(scope)} AND sha LIKE ${`${shaPrefix.toLowerCase().replace(/[^0-9a-f]/g, '')}%`}
    ORDER BY id DESC LIMIT 1`)
    .then(parseRow(Found));
}

export interface NewVersionApp {
  app: string;
  digest: string;
  valid: boolean;
  diagnostics: unknown[];
  spec: unknown;
  carriedFromVersionId: number | null;
  rollbackOfVersionId: number | null;
}

export interface NewVersion {
  tenantId: number;
  repositoryId: number;
  sha: string;
  parentSha: string | null;
  ref: string | null;
  author: string | null;
  message: string | null;
  committedAt: string | null;
  valid: boolean;
  diagnostics: unknown[];
  manifest: unknown;
  apps: NewVersionApp[];
}

/**
 * Records a version and its apps exactly once per (repository, sha). Concurrent callers with the same sha wait on
 * the unique index; the loser gets the winner's row and `created: false`. A version seen again as a branch head is
 * reachable again.
 */
export async function insertVersion(
  tx: DatabaseTransactionConnection,
  input: NewVersion,
): Promise<{ version: Version; created: boolean }> {
  const inserted = await tx.maybeOne(sql.type(Version)`
    INSERT INTO versions (tenant_id, repository_id, sha, parent_sha, ref, author, message, committed_at, valid, diagnostics, manifest)
    VALUES (${input.tenantId}, ${input.repositoryId}, ${input.sha}, ${input.parentSha}, ${input.ref}, ${input.author},
      ${input.message}, ${input.committedAt}, ${input.valid}, ${jsonb(input.diagnostics)}, ${jsonb(input.manifest)})
    ON CONFLICT (repository_id, sha) DO NOTHING
    RETURNING ${versionColumns}`).then(parseRow(Version));
  if (!inserted) {
    const existing = await tx.one(sql.type(Version)`
      UPDATE versions SET reachable = true WHERE repository_id = ${input.repositoryId} AND sha = ${input.sha}
      RETURNING ${versionColumns}`).then(parseOne(Version));
    return { version: existing, created: false };
  }
  if (input.apps.length > 0) {
    // One statement for every app: a monorepo commit is one round trip, not one per app.
    await tx.query(sql.unsafe`
      INSERT INTO version_apps (version_id, tenant_id, app, digest, valid, diagnostics, spec, carried_from_version_id, rollback_of_version_id)
      SELECT ${inserted.id}, ${input.tenantId}, x.app, x.digest, x.valid, x.diagnostics, x.spec, x.carried, x.rollback
      FROM jsonb_to_recordset(${jsonb(
        input.apps.map((a) => ({
          app: a.app,
          digest: a.digest,
          valid: a.valid,
          diagnostics: a.diagnostics,
          spec: a.spec ?? null,
          carried: a.carriedFromVersionId,
          rollback: a.rollbackOfVersionId,
        })),
      )}) AS x(app text, digest text, valid boolean, diagnostics jsonb, spec jsonb, carried bigint, rollback bigint)`);
  }
  return { version: inserted, created: true };
}

/** Versions of this repository, newest first, whose app had this digest and was valid: rollback candidates. */
export async function findVersionsWithDigest(
  db: CommonQueryMethods,
  scope: RepositoryScope,
  input: { app: string; digest: string; excludeSha: string; limit?: number },
): Promise<readonly { id: number; sha: string }[]> {
  return db.any(sql.type(z.object({ id: int8, sha: z.string() }))`
    SELECT v.id, v.sha FROM version_apps a JOIN versions v ON v.id = a.version_id
    WHERE a.app = ${input.app} AND a.digest = ${input.digest} AND a.valid AND ${repositoryFilter(scope, 'v')}
      AND v.sha <> ${input.excludeSha}
    ORDER BY v.id DESC LIMIT ${input.limit ?? 20}`).then(parseRows(z.object({ id: int8, sha: z.string() })));
}

/** The short sha and subject of a version, as "rollback to <short sha> (<subject>)" shows them. */
export async function describeRollback(db: CommonQueryMethods, scope: TenantScope, versionId: number, app: string): Promise<string | null> {
  const row = await db.maybeOne(sql.type(z.object({ sha: z.string(), subject: z.string().nullable() }))`
    SELECT o.sha, split_part(coalesce(o.message, ''), E'\n', 1) AS subject
    FROM version_apps a JOIN versions o ON o.id = a.rollback_of_version_id
    WHERE a.tenant_id = ${scope.tenantId} AND a.version_id = ${versionId} AND a.app = ${app}`).then(parseRow(z.object({ sha: z.string(), subject: z.string().nullable() })));
  return row ? rollbackText(row.sha, row.subject) : null;
}

/**
 * Marks the given versions unreachable (force push, deleted branch) and every other branch version of the repository
 * reachable. Versions first seen on other refs (`refs/pull/7/head`) are left as they are: branches do not reach them.
 */
export async function setUnreachable(db: CommonQueryMethods, scope: RepositoryScope, unreachableShas: readonly string[]): Promise<number> {
  const shas = sql.array([...unreachableShas], 'text');
  const res = await db.query(sql.unsafe`
    UPDATE versions SET reachable = NOT (sha = ANY(${shas}))
    WHERE ${repositoryFilter(scope)} AND coalesce(ref, '') NOT LIKE 'refs/%'
      AND reachable IS DISTINCT FROM NOT (sha = ANY(${shas}))`);
  return res.rowCount;
}

/** Shas of the versions first seen on a branch (not on a pull-request or other full ref). */
export async function listVersionShas(db: CommonQueryMethods, scope: RepositoryScope): Promise<readonly string[]> {
  return db.anyFirst(sql.type(z.object({ sha: z.string() }))`
    SELECT sha FROM versions WHERE ${repositoryFilter(scope)} AND coalesce(ref, '') NOT LIKE 'refs/%'`);
}

/** The manifest of the newest version seen on a branch that had a readable one. */
export async function latestManifest(db: CommonQueryMethods, scope: RepositoryScope, ref: string): Promise<unknown | null> {
  const found = await db.maybeOne(sql.unsafe`
    SELECT manifest FROM versions WHERE ${repositoryFilter(scope)} AND ref = ${ref} AND manifest IS NOT NULL AND manifest <> 'null'::jsonb
    ORDER BY id DESC LIMIT 1`);
  return (found?.manifest as unknown) ?? null;
}

/** A page of versions, newest first, within one organization (and its allowed repositories). */
export async function listVersionPage(
  db: CommonQueryMethods,
  scope: RestrictedScope,
  filter: { repositoryId?: number; valid?: boolean },
  page: { beforeId?: number; limit: number },
): Promise<readonly Version[]> {
  return db
    .any(sql.type(Version)`
    SELECT ${versionColumns} FROM versions v WHERE ${restrictedFilter(scope, 'v')}
      ${filter.repositoryId !== undefined ? sql.fragment`AND v.repository_id = ${filter.repositoryId}` : sql.fragment``}
      ${filter.valid !== undefined ? sql.fragment`AND v.valid = ${filter.valid}` : sql.fragment``}
      ${page.beforeId ? sql.fragment`AND v.id < ${page.beforeId}` : sql.fragment``}
    ORDER BY v.id DESC LIMIT ${page.limit}`)
    .then(parseRows(Version));
}

/** The apps of several versions at once, within one organization. */
export async function listAppsOfVersions(db: CommonQueryMethods, scope: TenantScope, versionIds: readonly number[]): Promise<readonly VersionApp[]> {
  if (versionIds.length === 0) return [];
  return db
    .any(sql.type(VersionApp)`
    SELECT ${appColumns} FROM version_apps WHERE tenant_id = ${scope.tenantId} AND version_id = ANY(${sql.array([...versionIds], 'int8')}) ORDER BY version_id, app`)
    .then(parseRows(VersionApp));
}
