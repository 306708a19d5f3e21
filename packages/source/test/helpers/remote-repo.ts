/** Bare repositories served over smart HTTP on loopback (testkit's git http-backend), with working clones that push. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { git, type GitHttpServerOptions, type GitRepo, openRepo, startGitHttpServer, tempDir } from '@wharf/testkit';

type T = Parameters<typeof tempDir>[0];

export interface RemoteRepo {
  /** A working clone of the remote. */
  repo: GitRepo;
  /** The bare repository the server serves. */
  bare: string;
  server: Awaited<ReturnType<typeof startGitHttpServer>>;
  url: string;
  /** Force-pushes refs (default main) from the working clone. */
  push(...refs: string[]): Promise<string>;
  /** Fetches that asked for objects: protocol v1 upload-pack POSTs (ls-refs is a v2 POST, and fetches use v1). */
  packRequests(since?: number): number;
}

export async function remoteRepo(t: T, intercept?: GitHttpServerOptions['intercept']): Promise<RemoteRepo> {
  const root = await tempDir(t, 'wharf-remote-');
  await git(root, 'init', '-q', '--bare', '-b', 'main', 'app.git');
  const work = await tempDir(t, 'wharf-work-');
  await git(work, 'clone', '-q', path.join(root, 'app.git'), '.');
  await git(work, 'checkout', '-q', '-b', 'main');
  const repo = await openRepo(work);
  const server = await startGitHttpServer(root, { intercept });
  t.teardown(() => server.close());
  return {
    repo,
    bare: path.join(root, 'app.git'),
    server,
    url: `${server.url}/app.git`,
    push: (...refs: string[]) => repo.git('push', '-q', '--force', 'origin', ...(refs.length ? refs : ['main'])),
    packRequests: (since = 0) =>
      server.requests.slice(since).filter((r) => r.method === 'POST' && r.path.endsWith('/git-upload-pack') && r.gitProtocol !== 'version=2').length,
  };
}

/** Feeds a `git fast-import` stream to a (bare) repository. */
export async function fastImport(gitdir: string, stream: string | Buffer): Promise<void> {
  const child = spawn('git', ['fast-import', '--quiet'], {
    cwd: gitdir,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  child.stdin.end(stream);
  await new Promise<void>((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`fast-import exited ${code}`)))));
}
