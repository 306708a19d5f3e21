/**
 * Real Git repositories made with the git CLI in temp dirs, with a fixed author and no user or system config, so
 * that commits are the same on every machine. Async execFile only: the git HTTP server of git-http-server.ts runs in
 * the same process.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { type TeardownOnly, tempDir } from './temp-dir.js';

const run = promisify(execFile);

export const GIT_ENV: Readonly<Record<string, string | undefined>> = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Ada',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_COMMITTER_NAME: 'Ada',
  GIT_COMMITTER_EMAIL: 'ada@example.com',
};

/** Runs `git args…` in `cwd`; resolves with its trimmed stdout. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: GIT_ENV, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

export interface GitRepo {
  dir: string;
  git(...args: string[]): Promise<string>;
  /** Writes (string or bytes) or deletes (null) files, relative to the repository root. */
  write(files: Record<string, string | Uint8Array | null>): Promise<void>;
  /** Stages everything and commits; returns the new sha. */
  commit(message: string, files?: Record<string, string | Uint8Array | null>): Promise<string>;
  head(ref?: string): Promise<string>;
}

export async function openRepo(dir: string): Promise<GitRepo> {
  const repo: GitRepo = {
    dir,
    git: (...args) => git(dir, ...args),
    async write(files) {
      for (const [p, content] of Object.entries(files)) {
        const full = path.join(dir, p);
        if (content === null) await rm(full, { force: true });
        else {
          await mkdir(path.dirname(full), { recursive: true });
          await writeFile(full, content);
        }
      }
    },
    async commit(message, files) {
      if (files) await repo.write(files);
      await git(dir, 'add', '-A');
      await git(dir, 'commit', '-q', '--allow-empty', '-m', message);
      return git(dir, 'rev-parse', 'HEAD');
    },
    head: (ref = 'HEAD') => git(dir, 'rev-parse', ref),
  };
  return repo;
}

/** A new repository (branch `main`) in a temp dir removed at teardown. */
export async function createRepo(t: TeardownOnly, options: { bare?: boolean } = {}): Promise<GitRepo> {
  const dir = await tempDir(t, 'wharf-repo-');
  await git(dir, 'init', '-q', '-b', 'main', ...(options.bare ? ['--bare'] : []));
  return openRepo(dir);
}
