/**
 * Pull requests as GitHub serves them to a fetch: the head of pull request `n` is advertised as `refs/pull/<n>/head`
 * in the base repository, its commits copied into the base repository's object store (GitHub shares objects across a
 * fork network), and no branch of the base repository points at it. Like GitHub's, the ref is hidden from pushes
 * (`receive.hideRefs`): a push to it is refused.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
const git = async (cwd: string, ...args: string[]) => (await run('git', args, { cwd, env: ENV })).stdout.trim();

/**
 * Publishes `branch` of `fork` (any local repository: a fork's clone) as the head of pull request `number` of the bare
 * repository `base`, as a fetch from GitHub sees it. Call again after the fork's branch moves (a `synchronize`).
 * Returns the head commit.
 */
export async function publishPullHead(options: { base: string; fork: string; branch: string; number: number }): Promise<string> {
  const ref = `refs/pull/${options.number}/head`;
  await git(options.base, 'config', 'receive.hideRefs', 'refs/pull');
  await git(options.base, 'fetch', '-q', '--no-tags', options.fork, `+refs/heads/${options.branch}:${ref}`);
  return git(options.base, 'rev-parse', ref);
}
