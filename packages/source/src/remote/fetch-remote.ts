/**
 * One bare clone per repository in the cache directory, fetched incrementally with isomorphic-git, one named ref at a
 * time: a push fetches the pushed branch, a pull request its `refs/pull/<n>/head` (where GitHub keeps fork heads),
 * never every branch at once. Each fetch is bounded by the fetch limits (bounded-http.ts): a pack over the limit is
 * refused as it streams in and nothing is stored; the refusal is remembered, so the same commit is not downloaded
 * again. A cache that cannot be read or updated is thrown away and cloned again (with a warning); a remote that does
 * not answer is retried with backoff and then reported, leaving everything as it was.
 */
import fs from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import git, { type HttpClient } from 'isomorphic-git';
import type { repositories } from '@wharf/store';
import type { Logger } from 'pino';
import { createBoundedHttpClient } from './bounded-http.js';
import { type FetchLimits, isFetchRefused, PackTooLargeError, RefNotFoundError } from './fetch-limits.js';
import { isRemoteError, type RetryPolicy, withRetry } from './retry.js';

type Repository = repositories.Repository;

/** Credentials for one request to the repository's remote (GitHub: an installation token, minted per call). */
export type RemoteAuth = (repository: Repository) => Promise<{ token: string; username?: string } | undefined>;

/** Packs refused by the size limit, by repository and ref, with the commit they were for. Bounded in entries. */
export interface RefusedPacks {
  get(key: string): PackTooLargeError | undefined;
  set(key: string, err: PackTooLargeError): void;
  delete(key: string): void;
}

export function createRefusedPacks(maxEntries = 1_000): RefusedPacks {
  const map = new Map<string, PackTooLargeError>();
  return {
    get: (key) => map.get(key),
    set(key, err) {
      map.delete(key);
      map.set(key, err);
      if (map.size > maxEntries) map.delete(map.keys().next().value as string);
    },
    delete: (key) => void map.delete(key),
  };
}

export interface RemoteDeps {
  log: Logger;
  cacheDir: string;
  /** The transport (http-client.ts); every fetch wraps it in a bounded client of its own. */
  http: HttpClient;
  auth?: RemoteAuth;
  retry: RetryPolicy;
  limits: FetchLimits;
  refused: RefusedPacks;
}

export interface FetchOptions {
  /** Overrides the source's limits for this call (e.g. a smaller pack limit for fork pull requests). */
  limits?: Partial<FetchLimits>;
}

export interface FetchResult {
  gitdir: string;
  /** Each ref asked for, with the commit it pointed at on the remote (now in the cache). */
  fetched: Map<string, string>;
  /** The cache was unreadable and was cloned again. */
  recloned: boolean;
  /** Bytes received from the remote, every request included. */
  receivedBytes: number;
}

export const cacheGitdir = (cacheDir: string, repository: Repository): string => path.join(cacheDir, `repo-${repository.id}.git`);

const spoolDir = (gitdir: string) => path.join(gitdir, 'wharf-spool');
const refusedKey = (repository: Repository, ref: string) => `${repository.id}\0${ref}`;

export async function authHeaders(deps: RemoteDeps, repository: Repository): Promise<Record<string, string>> {
  const credentials = await deps.auth?.(repository);
  if (!credentials) return {};
  const basic = Buffer.from(`${credentials.username ?? 'x-access-token'}:${credentials.token}`).toString('base64');
  return { Authorization: `Basic ${basic}` };
}

// git check-ref-format, for the names a webhook or a remote hands us: no `..`, no control characters or
// ~^:?*[\ or space, no component that starts with a dot or ends with .lock, no `@{`, no empty component.
const BAD_REF_CHARS = /[\x00-\x20\x7f~^:?*[\\]/;
function isValidBranchName(name: string): boolean {
  if (name.length === 0 || name.length > 255 || name === '@') return false;
  if (BAD_REF_CHARS.test(name) || name.includes('..') || name.includes('@{')) return false;
  return name.split('/').every((c) => c.length > 0 && !c.startsWith('.') && !c.endsWith('.lock') && !c.endsWith('.'));
}

/**
 * The full name of a ref that may be fetched: `refs/heads/<branch>` or `refs/pull/<n>/head`; anything else (tags,
 * other namespaces, malformed names) is refused before it reaches the remote or the cache.
 */
export function fetchableRef(ref: string): string {
  if (/^refs\/pull\/[1-9]\d{0,9}\/head$/.test(ref)) return ref;
  if (ref.startsWith('refs/heads/') && isValidBranchName(ref.slice('refs/heads/'.length))) return ref;
  throw new Error(`cannot fetch ${JSON.stringify(ref)}: only refs/heads/<branch> and refs/pull/<n>/head are fetched`);
}

/** Where a fetched ref is kept in the cache: branches as remote-tracking refs, pull request heads as themselves. */
const localRef = (ref: string) => (ref.startsWith('refs/heads/') ? `refs/remotes/origin/${ref.slice('refs/heads/'.length)}` : ref);

async function refExists(gitdir: string, ref: string): Promise<boolean> {
  return git
    .resolveRef({ fs, gitdir, ref })
    .then(() => true)
    .catch(() => false);
}

/** The bare cache clone, created when missing, with `origin` pointing at the repository's URL. */
export async function ensureCache(deps: RemoteDeps, repository: Repository): Promise<string> {
  const gitdir = cacheGitdir(deps.cacheDir, repository);
  if (!fs.existsSync(path.join(gitdir, 'config'))) {
    await git.init({ fs, dir: gitdir, bare: true, defaultBranch: repository.default_branch });
  }
  const configured = await git.getConfig({ fs, gitdir, path: 'remote.origin.url' });
  if (configured !== repository.url) await git.addRemote({ fs, gitdir, remote: 'origin', url: repository.url, force: true });
  return gitdir;
}

/**
 * Refs the remote advertises under `prefix` (no objects are transferred). Protocol v2 `ls-refs`: the remote sends
 * only the refs under the prefix (a repository's thousands of `refs/pull/*` stay on the remote); a remote that only
 * speaks v1 sends its whole advertisement, filtered here. Bounded by the advertisement limits either way.
 */
export async function listRemoteRefs(deps: RemoteDeps, repository: Repository, prefix: string, options: FetchOptions = {}): Promise<Map<string, string>> {
  const limits = { ...deps.limits, ...options.limits };
  const refs = await withRetry(
    async () => {
      const http = createBoundedHttpClient(deps.http, { limits, spoolDir: spoolDir(cacheGitdir(deps.cacheDir, repository)) });
      try {
        return await git.listServerRefs({ http, url: repository.url, prefix, protocolVersion: 2, headers: await authHeaders(deps, repository) });
      } finally {
        await http.dispose();
      }
    },
    deps.retry,
    deps.log,
    { repository: repository.full_name, op: 'ls-remote' },
  );
  return new Map(refs.filter((r) => r.ref.startsWith(prefix)).map((r) => [r.ref, r.oid]));
}

/** Branch heads the remote advertises, by branch name. */
export async function listRemoteHeads(deps: RemoteDeps, repository: Repository, options: FetchOptions = {}): Promise<Map<string, string>> {
  const refs = await listRemoteRefs(deps, repository, 'refs/heads/', options);
  return new Map([...refs].map(([ref, oid]) => [ref.slice('refs/heads/'.length), oid]));
}

async function fetchOne(
  deps: RemoteDeps,
  repository: Repository,
  ref: string,
  limits: FetchLimits,
): Promise<{ oid: string; receivedBytes: number }> {
  const gitdir = await ensureCache(deps, repository);
  const key = refusedKey(repository, ref);
  const refused = deps.refused.get(key);
  if (refused) {
    // Refused before: refuse again without downloading, unless the ref moved (or the limit was raised).
    const now = (await listRemoteRefs(deps, repository, ref, { limits })).get(ref);
    if (now === refused.oid && limits.maxPackBytes <= refused.limitBytes) throw refused;
    deps.refused.delete(key);
  }
  const local = localRef(ref);
  // isomorphic-git tells the remote it has the local ref named by `ref` (one "have"): this ref's previous head, or
  // for a new one the default branch, so that only the new objects are sent.
  const fallback = `refs/remotes/origin/${repository.default_branch}`;
  const have = (await refExists(gitdir, local)) ? local : (await refExists(gitdir, fallback)) ? fallback : local;
  let receivedBytes = 0;
  const result = await withRetry(
    async () => {
      const http = createBoundedHttpClient(deps.http, { limits, ref, spoolDir: spoolDir(gitdir) });
      try {
        return await git.fetch({
          fs,
          http,
          gitdir,
          url: repository.url,
          remote: 'origin',
          ref: have,
          remoteRef: ref,
          singleBranch: true,
          tags: false,
          // Never prune here: a single-ref fetch would delete every other remote-tracking ref.
          prune: false,
          headers: await authHeaders(deps, repository),
        });
      } catch (err) {
        if (err instanceof PackTooLargeError) deps.refused.set(key, err);
        if ((err as { code?: string; data?: { what?: string } })?.code === 'NotFoundError' && (err as { data?: { what?: string } }).data?.what === ref) {
          throw new RefNotFoundError(`${ref} is not on the remote of ${repository.full_name}`, { cause: err });
        }
        throw err;
      } finally {
        receivedBytes += http.received();
        await http.dispose();
      }
    },
    deps.retry,
    deps.log,
    { repository: repository.full_name, op: 'fetch', ref },
  );
  if (!result.fetchHead) throw new RefNotFoundError(`${ref} is not on the remote of ${repository.full_name} (the remote has no refs)`);
  if (local === ref) await git.writeRef({ fs, gitdir, ref: local, value: result.fetchHead, force: true });
  deps.log.debug({ repository: repository.full_name, ref, oid: result.fetchHead, receivedBytes }, 'ref fetched');
  return { oid: result.fetchHead, receivedBytes };
}

/**
 * Fetches the named refs (`refs/heads/<branch>`, `refs/pull/<n>/head`) into the cache clone, one at a time, cloning it
 * first (or again, when it is unreadable). Only these refs' new objects are transferred. Throws PackTooLargeError
 * or RefAdvertisementTooLargeError when a limit refuses a ref (the cache is as it was), RefNotFoundError when a ref
 * is not on the remote, RemoteUnavailableError when the remote does not answer.
 */
export async function fetchRefs(deps: RemoteDeps, repository: Repository, refs: readonly string[], options: FetchOptions = {}): Promise<FetchResult> {
  const wanted = [...new Set(refs.map(fetchableRef))];
  const limits = { ...deps.limits, ...options.limits };
  const gitdir = cacheGitdir(deps.cacheDir, repository);
  const all = async () => {
    const fetched = new Map<string, string>();
    let receivedBytes = 0;
    for (const ref of wanted) {
      const one = await fetchOne(deps, repository, ref, limits);
      fetched.set(ref, one.oid);
      receivedBytes += one.receivedBytes;
    }
    return { fetched, receivedBytes };
  };
  try {
    return { gitdir, recloned: false, ...(await all()) };
  } catch (err) {
    if (isRemoteError(err) || isFetchRefused(err) || err instanceof RefNotFoundError) throw err;
    deps.log.warn({ err, repository: repository.full_name, gitdir }, 'cache clone unreadable; cloning again');
    await rm(gitdir, { recursive: true, force: true });
    return { gitdir, recloned: true, ...(await all()) };
  }
}

/** Fetches a pull request's head (`refs/pull/<n>/head`: for a fork, the only place its commits are). */
export async function fetchPullHead(
  deps: RemoteDeps,
  repository: Repository,
  number: number,
  options: FetchOptions = {},
): Promise<{ gitdir: string; sha: string; recloned: boolean; receivedBytes: number }> {
  if (!Number.isSafeInteger(number) || number < 1) throw new Error(`not a pull request number: ${number}`);
  const ref = `refs/pull/${number}/head`;
  const result = await fetchRefs(deps, repository, [ref], options);
  return { gitdir: result.gitdir, sha: result.fetched.get(ref) as string, recloned: result.recloned, receivedBytes: result.receivedBytes };
}

/** Deletes remote-tracking refs of branches the remote no longer advertises. */
export async function pruneTrackingRefs(deps: RemoteDeps, repository: Repository, advertised: ReadonlyMap<string, string>): Promise<string[]> {
  const gitdir = cacheGitdir(deps.cacheDir, repository);
  if (!fs.existsSync(path.join(gitdir, 'config'))) return [];
  const local = await git.listBranches({ fs, gitdir, remote: 'origin' });
  const gone = local.filter((b) => b !== 'HEAD' && !advertised.has(b));
  for (const branch of gone) await git.deleteRef({ fs, gitdir, ref: `refs/remotes/origin/${branch}` });
  return gone;
}

export async function dropCache(deps: RemoteDeps, repository: Repository): Promise<void> {
  await rm(cacheGitdir(deps.cacheDir, repository), { recursive: true, force: true });
}
