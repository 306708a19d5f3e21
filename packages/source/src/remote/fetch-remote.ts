/**
 * One bare clone per repository in the cache directory, fetched incrementally with isomorphic-git. A cache that
 * cannot be read or updated is thrown away and cloned again (with a warning); a remote that does not answer is
 * retried with backoff and then reported, leaving everything as it was.
 */
import fs from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import git, { type HttpClient } from 'isomorphic-git';
import type { repositories } from '@wharf/store';
import type { Logger } from 'pino';
import { RemoteUnavailableError, type RetryPolicy, withRetry } from './retry.js';

/** Credentials for one request to the repository's remote (GitHub: an installation token, minted per call). */
export type RemoteAuth = (repository: repositories.Repository) => Promise<{ token: string; username?: string } | undefined>;

export interface RemoteDeps {
  log: Logger;
  cacheDir: string;
  http: HttpClient;
  auth?: RemoteAuth;
  retry: RetryPolicy;
}

export const cacheGitdir = (cacheDir: string, repository: repositories.Repository): string =>
  path.join(cacheDir, `repo-${repository.id}.git`);

export async function authHeaders(deps: RemoteDeps, repository: repositories.Repository): Promise<Record<string, string>> {
  const credentials = await deps.auth?.(repository);
  if (!credentials) return {};
  const basic = Buffer.from(`${credentials.username ?? 'x-access-token'}:${credentials.token}`).toString('base64');
  return { Authorization: `Basic ${basic}` };
}

/** Branch heads the remote advertises (no objects are transferred). */
export async function listRemoteHeads(deps: RemoteDeps, repository: repositories.Repository): Promise<Map<string, string>> {
  const refs = await withRetry(
    async () =>
      // Protocol v1: one GET of the ref advertisement (v2 needs a second request for ls-refs).
      git.listServerRefs({
        http: deps.http,
        url: repository.url,
        prefix: 'refs/heads/',
        protocolVersion: 1,
        headers: await authHeaders(deps, repository),
      }),
    deps.retry,
    deps.log,
    { repository: repository.full_name, op: 'ls-remote' },
  );
  return new Map(refs.map((r) => [r.ref.slice('refs/heads/'.length), r.oid]));
}

const isRemoteError = (err: unknown) =>
  err instanceof RemoteUnavailableError || (err as { code?: string })?.code === 'HttpError';

/**
 * Fetches every branch into the cache clone. `ref` adds one more ref to fetch (e.g. `refs/pull/7/head`, whose
 * commits may be on no branch); its objects are fetched, incrementally, without creating a local ref.
 */
export async function fetchIntoCache(
  deps: RemoteDeps,
  repository: repositories.Repository,
  options: { ref?: string } = {},
): Promise<{ gitdir: string; recloned: boolean }> {
  const gitdir = cacheGitdir(deps.cacheDir, repository);
  const once = async () => {
    if (!fs.existsSync(path.join(gitdir, 'config'))) {
      await git.init({ fs, dir: gitdir, bare: true, defaultBranch: repository.default_branch });
    }
    const configured = await git.getConfig({ fs, gitdir, path: 'remote.origin.url' });
    if (configured !== repository.url) await git.addRemote({ fs, gitdir, remote: 'origin', url: repository.url, force: true });
    await withRetry(
      async () =>
        git.fetch({
          fs,
          http: deps.http,
          gitdir,
          url: repository.url,
          remote: 'origin',
          singleBranch: false,
          ...(options.ref ? { ref: options.ref, remoteRef: options.ref } : {}),
          tags: false,
          prune: true,
          headers: await authHeaders(deps, repository),
        }),
      deps.retry,
      deps.log,
      { repository: repository.full_name, op: 'fetch' },
    );
  };
  try {
    await once();
    return { gitdir, recloned: false };
  } catch (err) {
    if (isRemoteError(err)) throw err;
    if (options.ref && (err as { code?: string; data?: { what?: string } })?.code === 'NotFoundError' && (err as { data?: { what?: string } }).data?.what === options.ref) {
      throw new Error(`${options.ref} is not on the remote of ${repository.full_name}`, { cause: err });
    }
    deps.log.warn({ err, repository: repository.full_name, gitdir }, 'cache clone unreadable; cloning again');
    await rm(gitdir, { recursive: true, force: true });
    await once();
    return { gitdir, recloned: true };
  }
}

export async function dropCache(deps: RemoteDeps, repository: repositories.Repository): Promise<void> {
  await rm(cacheGitdir(deps.cacheDir, repository), { recursive: true, force: true });
}

export { isRemoteError };
