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
import { type IngestResult, ingestCommit } from './ingest.js';
import { createHttpClient } from './remote/http-client.js';
import { cacheGitdir, dropCache, fetchIntoCache, listRemoteHeads, type RemoteAuth, type RemoteDeps } from './remote/fetch-remote.js';
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
   * Fetches all branches into the cache clone (cloning it first, or again when it is unreadable); `ref` also fetches
   * one more ref, such as `refs/pull/7/head`.
   */
  fetchRemote(repository: Repository, options?: { ref?: string }): Promise<{ gitdir: string; heads: Map<string, string>; recloned: boolean }>;
  /**
   * ingest() for a remote repository: fetches `ref` into the cache first when the commit is not there yet
   * (webhook deliveries: push and pull_request events).
   */
  ingestRemote(repository: Repository, ref: string, sha: string): Promise<IngestResult>;
  /** Fetches, then syncs every branch head as syncLocalRepository does. */
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
  };
  const localPaths = new Map<number, string>();
  const lastReclone = new Map<number, number>();
  const readers = new Map<string, GitReader>();
  // One operation at a time per repository: fetches and syncs of one clone never overlap.
  const queues = new Map<number, Promise<unknown>>();
  const serial = <T>(repository: Repository, fn: () => Promise<T>): Promise<T> => {
    const previous = queues.get(Number(repository.id)) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
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
      reader = createGitReader(gitdir);
      readers.set(gitdir, reader);
    }
    return reader;
  };

  const fetchRemote = async (repository: Repository, opts: { ref?: string } = {}) => {
    const { gitdir, recloned } = await fetchIntoCache(remote, repository, opts);
    if (recloned) readers.delete(gitdir);
    return { gitdir, heads: await readerFor(gitdir).listHeads('origin'), recloned };
  };

  const syncRemoteUnlocked = async (repository: Repository, branchPreviews: boolean): Promise<SyncResult> => {
    const started = performance.now();
    const fetched = await fetchRemote(repository);
    const fetchedAt = performance.now();
    const result = await syncHeads(deps, readerFor(fetched.gitdir), repository, fetched.heads, { branchPreviews });
    log.debug(
      { repository: repository.full_name, fetchMs: Math.round(fetchedAt - started), syncMs: Math.round(performance.now() - fetchedAt) },
      'remote synced',
    );
    if (result.failed.length === 0 || fetched.recloned) return result;
    // Objects missing or damaged in the cache clone: clone again and retry the branches that failed. At most once per
    // RECLONE_INTERVAL_MS, so that a commit that can never be read does not make every poll clone again.
    const last = lastReclone.get(Number(repository.id)) ?? Number.NEGATIVE_INFINITY;
    if (performance.now() - last < RECLONE_INTERVAL_MS) return result;
    lastReclone.set(Number(repository.id), performance.now());
    log.warn({ repository: repository.full_name, branches: result.failed.map((f) => f.branch) }, 'cache clone unreadable; cloning again');
    await dropCache(remote, repository);
    readers.delete(fetched.gitdir);
    const again = await fetchRemote(repository);
    const retried = await syncHeads(deps, readerFor(again.gitdir), repository, again.heads, { branchPreviews });
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
      return { moved: true, sync: await syncRemoteUnlocked(repository, opts.branchPreviews ?? defaultPreviews(repository)) };
    });

  return {
    gitdirFor,
    ingest: (repository, ref, sha) => ingestCommit(deps, readerFor(gitdirFor(repository)), repository, ref, sha),

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

    fetchRemote: (repository, opts = {}) => serial(repository, () => fetchRemote(repository, opts)),
    ingestRemote: (repository, ref, sha) =>
      serial(repository, async () => {
        const gitdir = cacheGitdir(options.cacheDir, repository);
        const present = existsSync(gitdir) && (await readerFor(gitdir).hasCommit(sha));
        if (!present) {
          const fetched = await fetchRemote(repository, { ref });
          if (!(await readerFor(fetched.gitdir).hasCommit(sha))) {
            throw new Error(`commit ${sha} is not on ${ref} of ${repository.full_name} (force-pushed since?)`);
          }
        }
        return ingestCommit(deps, readerFor(gitdir), repository, ref, sha);
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
