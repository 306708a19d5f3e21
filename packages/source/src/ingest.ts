/**
 * Ingest(repository, ref, sha) → version: read the commit from the object store, validate what changed, recognise
 * rollbacks, and record the version exactly once.
 */
import type { Diagnostic } from '@wharf/contracts';
import { type DatabasePool, refs, type repositories, type RepositoryScope, scopeOf, versions } from '@wharf/store';
import type { Logger } from 'pino';
import type { GitReader } from './git/git-reader.js';
import { type BaseVersion, readVersion } from './read-version.js';
import type { Manifest } from './validation.js';

/** How far back (in commits) a rollback target is looked for. */
const ROLLBACK_HISTORY_LIMIT = 10_000;

export interface IngestResult {
  version: versions.Version;
  apps: readonly versions.VersionApp[];
  /** False when the sha had already been recorded (by this or a concurrent call). */
  created: boolean;
  /** Apps whose files were read and validated for this commit (the others were carried forward). */
  validated: string[];
}

async function loadBase(db: DatabasePool, reader: GitReader, version: versions.Version): Promise<BaseVersion> {
  const apps = await versions.listVersionApps(db, { tenantId: version.tenant_id }, version.id);
  const commit = await reader.readCommit(version.sha);
  return {
    id: version.id,
    sha: version.sha,
    tree: commit.tree,
    manifest: (version.manifest as Manifest | null) ?? null,
    diagnostics: (version.diagnostics as Diagnostic[]) ?? [],
    apps: new Map(
      apps.map((a) => [
        a.app,
        {
          digest: a.digest,
          valid: a.valid,
          diagnostics: a.diagnostics as Diagnostic[],
          spec: a.spec,
          carriedFromVersionId: a.carried_from_version_id,
        },
      ]),
    ),
  };
}

/**
 * The version to diff against: the parent's when it was recorded, otherwise the branch's previous head when it is an
 * ancestor (several commits pushed at once). Without one, every app is read.
 */
async function findBase(
  db: DatabasePool,
  reader: GitReader,
  repository: repositories.Repository,
  ref: string | null,
  parents: string[],
  sha: string,
): Promise<BaseVersion | null> {
  const scope: RepositoryScope = scopeOf(repository);
  if (parents[0]) {
    const parent = await versions.findVersion(db, scope, parents[0]);
    if (parent) return loadBase(db, reader, parent);
  }
  if (!ref) return null;
  const previous = (await refs.listRefs(db, scope)).find((r) => r.ref === ref);
  if (!previous || previous.sha === sha || !(await reader.isAncestor(previous.sha, sha))) return null;
  const version = await versions.findVersion(db, scope, previous.sha);
  return version ? loadBase(db, reader, version) : null;
}

export async function ingestCommit(
  deps: { pool: DatabasePool; log: Logger },
  reader: GitReader,
  repository: repositories.Repository,
  fullRef: string | null,
  sha: string,
): Promise<IngestResult> {
  const { pool } = deps;
  // Branches are recorded by name (`main`), as syncs see them; other refs (`refs/pull/7/head`) in full.
  const ref = fullRef?.startsWith('refs/heads/') ? fullRef.slice('refs/heads/'.length) : fullRef;
  const scope = scopeOf(repository);
  const existing = await versions.findVersion(pool, scope, sha);
  if (existing) return { version: existing, apps: await versions.listVersionApps(pool, scope, existing.id), created: false, validated: [] };

  const t0 = performance.now();
  const commit = await reader.readCommit(sha);
  const base = await findBase(pool, reader, repository, ref, commit.parents, sha);
  const t1 = performance.now();
  const content = await readVersion(reader, commit, base);
  const t2 = performance.now();

  // Rollback recognition: a changed app whose digest equals an earlier version's in this commit's history. One
  // bounded walk of the history answers for every candidate.
  const rollbacks = new Map<string, number>();
  const candidates = new Map<string, readonly { id: number; sha: string }[]>();
  for (const app of content.apps) {
    if (!app.valid || app.carriedFromVersionId !== null) continue;
    if (base?.apps.get(app.app)?.digest === app.digest) continue;
    const found = await versions.findVersionsWithDigest(pool, scope, { app: app.app, digest: app.digest, excludeSha: sha });
    if (found.length > 0) candidates.set(app.app, found);
  }
  if (candidates.size > 0) {
    const wanted = new Set([...candidates.values()].flat().map((c) => c.sha));
    const history = await reader.reachable(commit.parents, wanted, ROLLBACK_HISTORY_LIMIT);
    for (const [app, found] of candidates) {
      const match = found.find((c) => history.has(c.sha));
      if (match) rollbacks.set(app, match.id);
    }
  }

  const diagnostics = [...content.manifestDiagnostics, ...content.apps.flatMap((a) => a.diagnostics)];
  const valid = content.manifest !== null && !diagnostics.some((d) => d.severity === 'error');
  const { version, created } = await pool.transaction((tx) =>
    versions.insertVersion(tx, {
      tenantId: repository.tenant_id,
      repositoryId: repository.id,
      sha,
      parentSha: commit.parents[0] ?? null,
      ref,
      author: commit.author,
      message: commit.message,
      committedAt: commit.committedAt,
      valid,
      diagnostics,
      manifest: content.manifest,
      apps: content.apps.map((a) => ({
        app: a.app,
        digest: a.digest,
        valid: a.valid,
        diagnostics: a.diagnostics,
        spec: a.spec,
        carriedFromVersionId: a.carriedFromVersionId,
        rollbackOfVersionId: rollbacks.get(a.app) ?? null,
      })),
    }),
  );
  const timings = { baseMs: Math.round(t1 - t0), readMs: Math.round(t2 - t1), writeMs: Math.round(performance.now() - t2) };
  deps.log.info(
    { repository: repository.full_name, ref, sha, valid, created, validated: content.validated.length, apps: content.apps.length, ...timings },
    'version ingested',
  );
  return { version, apps: await versions.listVersionApps(pool, scope, version.id), created, validated: created ? content.validated : [] };
}
