/**
 * The Git source: every commit a validated version, branch heads to environments, local working copies watched
 * live, remotes fetched into a cache and polled as a safety net.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Diagnostic, DriftMode, EnvironmentKind } from '@wharf/contracts';
import { type DatabasePool, type DatabaseTransactionConnection, refs, type repositories, scopeOf, versions } from '@wharf/store';
import type { Logger } from 'pino';
import { type Actor, applyAppVersion, type DesiredChange, type DesiredOptions, redeployPreview } from './desired-state.js';
import { createGitReader, type GitReader } from './git/git-reader.js';
import { createObjectCacheBudget } from './git/object-cache.js';
import { ObjectTooLargeError, type ReadLimits } from './git/read-limits.js';
import { type IngestResult, ingestCommit } from './ingest.js';
import { createHttpClient } from './remote/http-client.js';
import { DEFAULT_FETCH_LIMITS, type FetchLimits, isFetchRefused, RefNotFoundError } from './remote/fetch-limits.js';
import {
  cacheGitdir,
  createRefusedPacks,
  dropCache,
  ensureCache,
  fetchableRef,
  fetchPullHead,
  fetchRefs,
  type FetchOptions,
  type FetchResult,
  listRemoteHeads,
  pruneTrackingRefs,
  type RemoteAuth,
  type RemoteDeps,
} from './remote/fetch-remote.js';
import { DEFAULT_RETRY, type RetryPolicy } from './remote/retry.js';
import { type SyncResult, syncHeads } from './sync-heads.js';
import { type LocalWatcher, watchRefs } from './watch-local.js';

type Repository = repositories.Repository;

export interface SourceOptions {
  pool: DatabasePool;
  /** Where remote repositories are cloned (one bare clone per repository). */
  cacheDir: string;
  log: Logger;
  clock?: () => Date;
  /** Credentials per request to a remote (GitHub installation tokens). */
  auth?: RemoteAuth;
  /** A remote request with no byte for this long fails (and is retried). Default 30 s. */
  remoteTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** What one fetch may receive (pack bytes, ref advertisement). Default DEFAULT_FETCH_LIMITS; settings: sourceSettings. */
  fetchLimits?: Partial<FetchLimits>;
  /** Memory Git readers may keep between reads (parsed packs), every repository together. Default 128 MiB. */
  objectCacheBytes?: number;
  /** Bounds on reading one commit (default READ_LIMITS). */
  readLimits?: Partial<ReadLimits>;
}

export interface RemotePoller {
  close(): Promise<void>;
}

export interface SetDesiredInput {
  repository: Repository;
  versionId: number;
  /** One app, or every app of the version when omitted. */
  app?: string;
  envName: string;
  kind: EnvironmentKind;
  branch: string | null;
  prNumber: number | null;
  /** Who asked (written to the audit log with each deploy or rollback). */
  actor: Actor;
  options?: DesiredOptions;
}

export interface Source {
  /** Records the version of `sha` (idempotent). `ref` is the branch it was seen on, if any. */
  ingest(repository: Repository, ref: string | null, sha: string): Promise<IngestResult>;
  /** Reads every branch of a working copy in place, ingests moved heads, updates environments, handles deletions. */
  syncLocalRepository(repository: Repository, repoPath: string): Promise<SyncResult>;
  /** Syncs once, then again after every change of the working copy's refs (debounced). */
  watchLocalRepository(options: { repository: Repository; path: string; debounceMs?: number }): Promise<LocalWatcher>;
  /**
   * Fetches only the named refs (`refs/heads/<branch>`, `refs/pull/<n>/head`) into the cache clone, each bounded by
   * the fetch limits (PackTooLargeError, RefAdvertisementTooLargeError: nothing stored), cloning first when needed.
   */
  fetchRefs(repository: Repository, refs: readonly string[], options?: FetchOptions): Promise<FetchResult>;
  /** Fetches `refs/pull/<n>/head` (a fork's head is only there) and returns the commit it points at. */
  fetchPullHead(repository: Repository, number: number, options?: FetchOptions): Promise<{ gitdir: string; sha: string; recloned: boolean; receivedBytes: number }>;
  /**
   * @deprecated fetches every branch that moved, one ref at a time (a branch over a fetch limit is skipped with a
   * warning); use fetchRefs or fetchPullHead for what a delivery names. `ref` also fetches one more ref.
   */
  fetchRemote(repository: Repository, options?: { ref?: string }): Promise<{ gitdir: string; heads: Map<string, string>; recloned: boolean }>;
  /**
   * ingest() for a remote repository: fetches `ref` (`refs/heads/<branch>` or `refs/pull/<n>/head`; a bare name is a
   * branch) into the cache first when the commit is not there yet.
   */
  ingestRemote(repository: Repository, ref: string, sha: string): Promise<IngestResult>;
  /**
   * A push delivery: syncs the one pushed branch (`ref` = `refs/heads/<branch>`, `after` its new head, forty zeros for
   * a deletion) as syncRemoteRepository would, fetching only that ref, and only when its head is read.
   */
  syncPushedRef(repository: Repository, ref: string, after: string, options?: { branchPreviews?: boolean }): Promise<SyncResult>;
  /**
   * Asks the remote for its branch heads and syncs them as syncLocalRepository does, fetching each head that is read
   * (one ref at a time) and no other.
   */
  syncRemoteRepository(repository: Repository, options?: { branchPreviews?: boolean }): Promise<SyncResult>;
  /** Asks the remote for its heads; fetches and syncs only when one moved, appeared or disappeared. */
  checkRemote(repository: Repository, options?: { branchPreviews?: boolean }): Promise<{ moved: boolean; sync?: SyncResult }>;
  /** checkRemote every `intervalMs` (± `jitter`, a fraction), until closed. */
  pollRemote(options: {
    repository: Repository;
    intervalMs: number;
    jitter?: number;
    branchPreviews?: boolean;
    onResult?: (result: { moved: boolean; sync?: SyncResult } | { error: unknown }) => void;
  }): RemotePoller;
  /**
   * Points an environment (a pull request's `pr-<n>`) at a recorded version: the one writer of desired state, as for
   * branch heads. `options.stripSecrets` for a fork's preview. Runs in `within` when given (the caller's transaction
   * also queues what GitHub hears about it), else in a transaction of its own.
   */
  setDesiredFromVersion(input: SetDesiredInput, within?: DatabaseTransactionConnection): Promise<DesiredChange[]>;
  /** Deploys a pull request's live previews again at the same version; returns how many. */
  redeployPreview(input: { repository: Repository; prNumber: number; actor: Actor }): Promise<number>;
  /** The directory whose object store is read for this repository. */
  gitdirFor(repository: Repository): string;
}

/** The git directory of a working copy (`.git`) or of a bare repository. */
export function resolveGitdir(repoPath: string): string {
  const dotGit = path.join(repoPath, '.git');
  if (existsSync(dotGit) && statSync(dotGit).isDirectory()) return dotGit;
  if (existsSync(path.join(repoPath, 'HEAD')) && existsSync(path.join(repoPath, 'objects'))) return repoPath;
  throw new Error(`${repoPath} is not a Git repository (no .git directory)`);
}

const localPath = (repository: Repository): string =>
  repository.url.startsWith('file://') ? new URL(repository.url).pathname : repository.url;

const RECLONE_INTERVAL_MS = 10 * 60_000;

export function createSource(options: SourceOptions): Source {
  const { pool, log } = options;
  const now = options.clock ?? (() => new Date());
  const deps = { pool, log, now };
  const remote: RemoteDeps = {
    log,
    cacheDir: options.cacheDir,
    http: createHttpClient({ timeoutMs: options.remoteTimeoutMs ?? 30_000 }),
    auth: options.auth,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    limits: { ...DEFAULT_FETCH_LIMITS, ...options.fetchLimits },
    refused: createRefusedPacks(),
  };
  const objectCache = createObjectCacheBudget({ maxBytes: options.objectCacheBytes ?? 128 * 1024 * 1024 });
  const localPaths = new Map<number, string>();
  const lastReclone = new Map<number, number>();
  const readers = new Map<string, GitReader>();
  // One operation at a time per repository: fetches and syncs of one clone never overlap.
  const queues = new Map<number, Promise<unknown>>();
  const serial = <T>(repository: Repository, fn: () => Promise<T>): Promise<T> => {
    const previous = queues.get(Number(repository.id)) ?? Promise.resolve();
    // After each operation, what readers keep between reads goes back within its budget.
    const next = previous
      .catch(() => undefined)
      .then(fn)
      .finally(() => objectCache.trim());
    queues.set(Number(repository.id), next);
    void next.finally(() => queues.get(Number(repository.id)) === next && queues.delete(Number(repository.id))).catch(() => undefined);
    return next;
  };

  const gitdirFor = (repository: Repository): string => {
    const known = localPaths.get(Number(repository.id));
    if (known) return resolveGitdir(known);
    if (repository.provider === 'local') return resolveGitdir(localPath(repository));
    return cacheGitdir(options.cacheDir, repository);
  };
  const readerFor = (gitdir: string): GitReader => {
    let reader = readers.get(gitdir);
    if (!reader) {
      reader = createGitReader(gitdir, { cache: objectCache.register(), limits: options.readLimits });
      readers.set(gitdir, reader);
    }
    return reader;
  };

  /** Makes sure `sha` is in the cache clone, fetching `ref` (only) when it is not. */
  const ensureCommit = async (repository: Repository, ref: string, sha: string): Promise<{ recloned: boolean }> => {
    const gitdir = cacheGitdir(options.cacheDir, repository);
    if (existsSync(gitdir) && (await readerFor(gitdir).hasCommit(sha))) return { recloned: false };
    const { recloned } = await fetchRefs(remote, repository, [ref]);
    if (recloned) readerFor(gitdir).reset();
    if (!(await readerFor(gitdir).hasCommit(sha))) {
      throw new Error(`commit ${sha} is not on ${ref} of ${repository.full_name} (force-pushed since?)`);
    }
    return { recloned };
  };

  const fetchRemote = async (repository: Repository, opts: { ref?: string } = {}) => {
    const advertised = await listRemoteHeads(remote, repository);
    const gitdir = await ensureCache(remote, repository);
    await pruneTrackingRefs(remote, repository, advertised);
    const tracked = await readerFor(gitdir).listHeads('origin');
    const refs = [...advertised].filter(([branch, oid]) => tracked.get(branch) !== oid).map(([branch]) => `refs/heads/${branch}`);
    let recloned = false;
    for (const ref of opts.ref ? [...refs, opts.ref] : refs) {
      try {
        recloned = (await fetchRefs(remote, repository, [ref])).recloned || recloned;
      } catch (err) {
        if (!isFetchRefused(err) || ref === opts.ref) throw err;
        log.warn({ err, repository: repository.full_name, ref }, 'branch not fetched: over a fetch limit');
      }
    }
    if (recloned) readerFor(gitdir).reset();
    return { gitdir, heads: await readerFor(gitdir).listHeads('origin'), recloned };
  };

  // Failures that a new clone of the cache cannot fix: a fetch limit, a ref gone from the remote, an object too large.
  const cloneAgainHelps = (err: unknown) => !isFetchRefused(err) && !(err instanceof RefNotFoundError) && !(err instanceof ObjectTooLargeError);

  const syncRemoteUnlocked = async (
    repository: Repository,
    branchPreviews: boolean,
    advertised?: ReadonlyMap<string, string>,
  ): Promise<SyncResult> => {
    const started = performance.now();
    const heads = advertised ?? (await listRemoteHeads(remote, repository));
    const gitdir = await ensureCache(remote, repository);
    await pruneTrackingRefs(remote, repository, heads);
    const reader = readerFor(gitdir);
    let recloned = false;
    // Each head that is read is fetched then, alone; heads that are only remembered are never fetched.
    const prepare = async (branch: string, sha: string) => {
      recloned = (await ensureCommit(repository, `refs/heads/${branch}`, sha)).recloned || recloned;
    };
    const result = await syncHeads(deps, reader, repository, heads, { branchPreviews, prepare });
    log.debug({ repository: repository.full_name, syncMs: Math.round(performance.now() - started) }, 'remote synced');
    if (recloned || !result.failed.some((f) => cloneAgainHelps(f.error))) return result;
    // Objects missing or damaged in the cache clone: clone again and retry the branches that failed. At most once per
    // RECLONE_INTERVAL_MS, so that a commit that can never be read does not make every poll clone again.
    const last = lastReclone.get(Number(repository.id)) ?? Number.NEGATIVE_INFINITY;
    if (performance.now() - last < RECLONE_INTERVAL_MS) return result;
    lastReclone.set(Number(repository.id), performance.now());
    log.warn({ repository: repository.full_name, branches: result.failed.map((f) => f.branch) }, 'cache clone unreadable; cloning again');
    await dropCache(remote, repository);
    reader.reset();
    await ensureCache(remote, repository);
    const retried = await syncHeads(deps, reader, repository, heads, { branchPreviews, prepare });
    return {
      ingested: [...result.ingested, ...retried.ingested],
      changes: [...result.changes, ...retried.changes],
      deletedBranches: [...result.deletedBranches, ...retried.deletedBranches],
      forcePushed: [...result.forcePushed, ...retried.forcePushed],
      failed: retried.failed,
      unreachable: result.unreachable + retried.unreachable,
    };
  };

  const defaultPreviews = (repository: Repository) => repository.provider !== 'github';

  const checkRemote: Source['checkRemote'] = (repository, opts = {}) =>
    serial(repository, async () => {
      const started = performance.now();
      const advertised = await listRemoteHeads(remote, repository);
      log.debug({ repository: repository.full_name, lsRemoteMs: Math.round(performance.now() - started) }, 'remote heads listed');
      const stored = new Map((await refs.listRefs(pool, scopeOf(repository))).map((r) => [r.ref, r.sha]));
      const moved =
        advertised.size !== stored.size || [...advertised].some(([ref, sha]) => stored.get(ref) !== sha);
      if (!moved) return { moved: false };
      return { moved: true, sync: await syncRemoteUnlocked(repository, opts.branchPreviews ?? defaultPreviews(repository), advertised) };
    });

  return {
    gitdirFor,
    ingest: (repository, ref, sha) =>
      ingestCommit(deps, readerFor(gitdirFor(repository)), repository, ref, sha).finally(() => objectCache.trim()),

    syncLocalRepository: (repository, repoPath) => {
      localPaths.set(Number(repository.id), repoPath);
      return serial(repository, async () => {
        const reader = readerFor(resolveGitdir(repoPath));
        return syncHeads(deps, reader, repository, await reader.listHeads(), { branchPreviews: true });
      });
    },

    async watchLocalRepository({ repository, path: repoPath, debounceMs = 30 }) {
      localPaths.set(Number(repository.id), repoPath);
      const gitdir = resolveGitdir(repoPath);
      const sync = async () => {
        await serial(repository, async () => {
          const reader = readerFor(gitdir);
          await syncHeads(deps, reader, repository, await reader.listHeads(), { branchPreviews: true });
        });
      };
      const watcher = await watchRefs({ gitdir, debounceMs, log: log.child({ repository: repository.full_name }), sync });
      await sync().catch((err) => log.error({ err, repository: repository.full_name }, 'local repository sync failed'));
      return watcher;
    },

    fetchRefs: (repository, refs, opts) =>
      serial(repository, async () => {
        const result = await fetchRefs(remote, repository, refs, opts);
        if (result.recloned) readerFor(result.gitdir).reset();
        return result;
      }),
    fetchPullHead: (repository, number, opts) =>
      serial(repository, async () => {
        const result = await fetchPullHead(remote, repository, number, opts);
        if (result.recloned) readerFor(result.gitdir).reset();
        return result;
      }),
    fetchRemote: (repository, opts = {}) => serial(repository, () => fetchRemote(repository, opts)),
    ingestRemote: (repository, ref, sha) =>
      serial(repository, async () => {
        await ensureCommit(repository, ref.startsWith('refs/') ? ref : `refs/heads/${ref}`, sha);
        return ingestCommit(deps, readerFor(cacheGitdir(options.cacheDir, repository)), repository, ref, sha);
      }),
    syncPushedRef: (repository, ref, after, opts = {}) =>
      serial(repository, async () => {
        const full = fetchableRef(ref);
        if (!full.startsWith('refs/heads/')) throw new Error(`a push names a branch (refs/heads/<branch>), not ${ref}`);
        if (!/^[0-9a-f]{40}$/.test(after)) throw new Error(`not a commit id: ${JSON.stringify(after)}`);
        const branch = full.slice('refs/heads/'.length);
        // The other branches as last recorded: only the pushed one moves in this sync (the poll catches the rest).
        const heads = new Map((await refs.listRefs(pool, scopeOf(repository))).map((r) => [r.ref, r.sha]));
        if (/^0{40}$/.test(after)) heads.delete(branch);
        else heads.set(branch, after);
        const reader = readerFor(await ensureCache(remote, repository));
        const prepare = async (b: string, sha: string) => void (await ensureCommit(repository, `refs/heads/${b}`, sha));
        return syncHeads(deps, reader, repository, heads, { branchPreviews: opts.branchPreviews ?? defaultPreviews(repository), prepare });
      }),
    syncRemoteRepository: (repository, opts = {}) =>
      serial(repository, () => syncRemoteUnlocked(repository, opts.branchPreviews ?? defaultPreviews(repository))),
    checkRemote,

    pollRemote({ repository, intervalMs, jitter = 0.2, branchPreviews, onResult }) {
      let closed = false;
      let timer: NodeJS.Timeout | undefined;
      let current: Promise<void> | undefined;
      const next = () => {
        if (closed) return;
        const delay = intervalMs * (1 - jitter + Math.random() * 2 * jitter);
        timer = setTimeout(tick, delay);
      };
      const tick = () => {
        current = checkRemote(repository, { branchPreviews })
          .then((r) => onResult?.(r))
          .catch((error) => {
            log.warn({ err: error, repository: repository.full_name }, 'remote poll failed');
            onResult?.({ error });
          })
          .finally(next);
      };
      next();
      return {
        async close() {
          closed = true;
          if (timer) clearTimeout(timer);
          await current;
        },
      };
    },

    async setDesiredFromVersion(input, within) {
      const scope = scopeOf(input.repository);
      const write = async (tx: DatabaseTransactionConnection) => {
        const version = await versions.getVersion(tx, scope, input.versionId);
        if (!version || version.repository_id !== Number(input.repository.id)) {
          throw new Error(`version ${input.versionId} is not a version of ${input.repository.full_name}`);
        }
        const apps = (await versions.listVersionApps(tx, scope, version.id)).filter((a) => !input.app || a.app === input.app);
        const manifest = version.manifest as { apps?: { name: string; target?: string; driftMode?: DriftMode }[] } | null;
        const out: DesiredChange[] = [];
        const target = { envName: input.envName, kind: input.kind, branch: input.branch, prNumber: input.prNumber };
        const common = { repository: input.repository, version, target, now: now(), actor: input.actor, options: input.options };
        if (apps.length === 0 && !version.valid && input.app) {
          const app = { app: input.app, digest: null, valid: false as const, diagnostics: version.diagnostics as Diagnostic[], spec: null };
          out.push(await applyAppVersion(tx, { ...common, app }));
        }
        for (const app of apps) {
          out.push(await applyAppVersion(tx, { ...common, app, manifestApp: manifest?.apps?.find((a) => a.name === app.app) }));
        }
        return out;
      };
      return within ? write(within) : pool.transaction(write);
    },

    redeployPreview: (input) => redeployPreview(pool, input),
  };
}
