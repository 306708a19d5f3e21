/**
 * One pass over a repository's branch heads: ingest the heads that moved, update their environments, tear down
 * the environments of deleted branches, and mark versions that no branch reaches any more (force push, deletion).
 */
import { type DatabasePool, desiredState, isDatabaseError, refs, type repositories, scopeOf, versions } from '@wharf/store';
import type { Logger } from 'pino';
import { branchSlug } from './branch-slug.js';
import { applyBranchHead, type DesiredChange, productionBranchOf } from './desired-state.js';
import type { GitReader } from './git/git-reader.js';
import type { Manifest } from './validation.js';
import { type IngestResult, ingestCommit } from './ingest.js';
import { isRemoteError } from './remote/retry.js';

export interface SyncResult {
  ingested: IngestResult[];
  changes: DesiredChange[];
  deletedBranches: string[];
  forcePushed: string[];
  /** Branches whose head could not be ingested (retried on the next sync: their ref is not recorded). */
  failed: { branch: string; sha: string; error: unknown }[];
  /** Versions whose reachability changed. */
  unreachable: number;
}

export interface SyncDeps {
  pool: DatabasePool;
  log: Logger;
  now: () => Date;
}

export async function syncHeads(
  deps: SyncDeps,
  reader: GitReader,
  repository: repositories.Repository,
  heads: ReadonlyMap<string, string>,
  options: {
    branchPreviews: boolean;
    /** Called before a head is read (a remote: fetch that one branch into the cache). A remote error stops the sync. */
    prepare?: (branch: string, sha: string) => Promise<void>;
  },
): Promise<SyncResult> {
  const { pool, log } = deps;
  const scope = scopeOf(repository);
  const stored = new Map((await refs.listRefs(pool, scope)).map((r) => [r.ref, r.sha]));
  const result: SyncResult = { ingested: [], changes: [], deletedBranches: [], forcePushed: [], failed: [], unreachable: 0 };
  // The default branch first: its manifest says which branch is production (the last readable one while it is broken).
  const ordered = [...heads].sort(([a], [b]) => Number(b === repository.default_branch) - Number(a === repository.default_branch));
  const productionOf = async () =>
    productionBranchOf(repository, (await versions.latestManifest(pool, scope, repository.default_branch)) as Manifest | null);
  let production: string | undefined;
  for (const [branch, sha] of ordered) {
    const before = stored.get(branch);
    if (before === sha) continue;
    production ??= await productionOf();
    // Without branch previews (GitHub: pull requests get previews instead) only production's head is ingested.
    if (!options.branchPreviews && branch !== production && branch !== repository.default_branch) {
      await refs.saveRef(pool, scope, { ref: branch, sha });
      continue;
    }
    try {
      await options.prepare?.(branch, sha);
      const ingested = await ingestCommit(deps, reader, repository, branch, sha);
      result.ingested.push(ingested);
      if (branch === repository.default_branch) {
        const manifest = ingested.version.manifest as Manifest | null;
        production = manifest ? productionBranchOf(repository, manifest) : await productionOf();
      }
      const isProduction = branch === production;
      if (isProduction || options.branchPreviews) {
        const changes = await applyBranchHead(pool, {
          repository,
          version: ingested.version,
          apps: ingested.apps,
          target: {
            envName: isProduction ? 'production' : branchSlug(branch),
            kind: isProduction ? 'production' : 'preview',
            branch,
            prNumber: null,
          },
          now: deps.now(),
        });
        result.changes.push(...changes);
      }
      if (before && !(await reader.isAncestor(before, sha))) result.forcePushed.push(branch);
    } catch (error) {
      // The database being down stops the sync; a commit that cannot be read only skips its branch.
      if (isDatabaseError(error) || isRemoteError(error)) throw error;
      log.error({ err: error, repository: repository.full_name, branch, sha }, 'branch head not ingested');
      result.failed.push({ branch, sha, error });
      continue;
    }
    await refs.saveRef(pool, scope, { ref: branch, sha });
  }
  for (const branch of stored.keys()) {
    if (heads.has(branch)) continue;
    result.deletedBranches.push(branch);
    for (const env of await desiredState.listBranchEnvironments(pool, scope, branch)) {
      if (env.kind !== 'preview') {
        log.warn({ repository: repository.full_name, branch, environment: env.name }, 'production branch deleted; environment left running');
        continue;
      }
      if (await desiredState.requestDeletion(pool, scope, env.id)) {
        result.changes.push({ app: env.app, environment: env.name, environmentId: env.id, outcome: 'updated', generation: env.generation + 1 });
      }
    }
    await refs.deleteRef(pool, scope, branch);
  }
  if (result.forcePushed.length > 0 || result.deletedBranches.length > 0) {
    const known = new Set(await versions.listVersionShas(pool, scope));
    const reachable = await reader.reachable([...heads.values()], known);
    const unreachable = [...known].filter((s) => !reachable.has(s));
    result.unreachable = await versions.setUnreachable(pool, scope, unreachable);
    log.info({ repository: repository.full_name, forcePushed: result.forcePushed, unreachable: unreachable.length }, 'reachability updated');
  }
  return result;
}
