/** Real Git repositories made with the git CLI in temp dirs (async execFile only: see git-http-server.ts). */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface GitRepo {
  dir: string;
  git(...args: string[]): Promise<string>;
  /** Writes (string or bytes) or deletes (null) files, relative to the repository root. */
  write(files: Record<string, string | Uint8Array | null>): Promise<void>;
  /** Stages everything and commits; returns the new sha. */
  commit(message: string, files?: Record<string, string | Uint8Array | null>): Promise<string>;
  head(ref?: string): Promise<string>;
}

const ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Ada',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_COMMITTER_NAME: 'Ada',
  GIT_COMMITTER_EMAIL: 'ada@example.com',
};

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: ENV, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

export async function tempDir(t: { teardown(fn: () => unknown): void }, prefix = 'wharf-src-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
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

export async function createRepo(t: { teardown(fn: () => unknown): void }, options: { bare?: boolean } = {}): Promise<GitRepo> {
  const dir = await tempDir(t);
  await git(dir, 'init', '-q', '-b', 'main', ...(options.bare ? ['--bare'] : []));
  return openRepo(dir);
}

/** A small valid Workflow config. */
export const workflow = (port = 8080, extra = ''): string => `# an HTTP app
modules:
  - name: server
    type: http.server
    config:
      address: ":${port}"
  - name: router
    type: http.router
    dependsOn: [server]
${extra}`;

/** The same config with other comments, quoting, indentation and key order. */
export const workflowReformatted = (port = 8080): string => `modules:
    # the server first
    - type: "http.server"
      name: 'server'
      config: { address: ":${port}" }
    - dependsOn:
        - server
      name: router   # routes
      type: http.router
`;

export const manifest = (apps: { name: string; files: string[] }[], extra = ''): string =>
  `apps:\n${apps.map((a) => `  - name: ${a.name}\n    files: [${a.files.map((f) => JSON.stringify(f)).join(', ')}]\n`).join('')}${extra}`;
