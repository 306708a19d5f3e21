import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT_DIR } from './paths.js';

const run = promisify(execFile);

export const EXAMPLES_DIR = path.join(REPO_ROOT_DIR, 'examples');

export async function listExamples(): Promise<string[]> {
  const entries = await readdir(EXAMPLES_DIR, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'Wharf',
  GIT_AUTHOR_EMAIL: 'wharf@localhost',
  GIT_COMMITTER_NAME: 'Wharf',
  GIT_COMMITTER_EMAIL: 'wharf@localhost',
};

/**
 * The repository `wharf up` watches: `--repo PATH` as is (it must be a Git working copy), otherwise
 * `<dataDir>/repos/<example>`, created on first use as a fresh Git repository with one commit of the example.
 */
export async function prepareRepository(options: {
  repo?: string;
  example: string;
  dataDir: string;
  cwd: string;
  progress: (message: string) => void;
}): Promise<{ path: string; created: boolean }> {
  if (options.repo) {
    const repoPath = path.resolve(options.cwd, options.repo);
    if (!existsSync(path.join(repoPath, '.git'))) {
      throw new Error(`--repo ${options.repo}: ${repoPath} is not a Git working copy (no .git directory)`);
    }
    return { path: repoPath, created: false };
  }
  const examples = await listExamples();
  if (!examples.includes(options.example)) {
    throw new Error(`no example named '${options.example}': choose one of ${examples.join(', ')}`);
  }
  const repoPath = path.resolve(options.cwd, options.dataDir, 'repos', options.example);
  if (existsSync(path.join(repoPath, '.git'))) return { path: repoPath, created: false };
  options.progress(`creating the example repository ${path.relative(options.cwd, repoPath)} from examples/${options.example}`);
  await mkdir(path.dirname(repoPath), { recursive: true });
  await cp(path.join(EXAMPLES_DIR, options.example), repoPath, { recursive: true });
  const git = (...args: string[]) => run('git', args, { cwd: repoPath, env: { ...process.env, ...GIT_IDENTITY } });
  await git('init', '--quiet', '--initial-branch=main');
  await git('add', '--all');
  await git('commit', '--quiet', '--message', `Start from the ${options.example} example`);
  return { path: repoPath, created: true };
}
