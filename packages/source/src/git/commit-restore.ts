/**
 * Rollback in local mode: a commit on a branch of a working copy whose tree is the tree of an earlier commit, so the
 * branch's next version equals that earlier one (and Wharf records it as a rollback). Git stays the source of truth:
 * the rollback is an ordinary commit the user can see, push and revert. Refused when it would lose work: a branch
 * checked out with uncommitted changes, or untracked files the restored tree would overwrite.
 */
import fs from 'node:fs';
import git from 'isomorphic-git';

export type RestoreOutcome =
  | { kind: 'committed'; commit: string; previous: string }
  | { kind: 'same' }
  | { kind: 'dirty'; files: string[] }
  | { kind: 'no-branch' }
  | { kind: 'no-commit' };

export async function commitRestore(input: {
  dir: string;
  branch: string;
  sha: string;
  message: string;
  author: { name: string; email: string };
}): Promise<RestoreOutcome> {
  const { dir } = input;
  const ref = `refs/heads/${input.branch}`;
  const head = await git.resolveRef({ fs, dir, ref }).catch(() => null);
  if (!head) return { kind: 'no-branch' };
  const target = await git.readCommit({ fs, dir, oid: input.sha }).catch(() => null);
  if (!target) return { kind: 'no-commit' };
  const current = await git.readCommit({ fs, dir, oid: head });
  if (current.commit.tree === target.commit.tree) return { kind: 'same' };
  const checkedOut = (await git.currentBranch({ fs, dir, fullname: true }).catch(() => undefined)) === ref;
  if (checkedOut) {
    const matrix = await git.statusMatrix({ fs, dir });
    const targetFiles = new Set(
      (await git.walk({ fs, dir, trees: [git.TREE({ ref: input.sha })], map: async (path) => path })) as string[],
    );
    const dirty = matrix
      .filter(([file, headStatus, workdir, stage]) => {
        const untracked = headStatus === 0 && stage === 0;
        if (untracked) return workdir !== 0 && targetFiles.has(file);
        return !(headStatus === 1 && workdir === 1 && stage === 1);
      })
      .map(([file]) => file);
    if (dirty.length > 0) return { kind: 'dirty', files: dirty.slice(0, 20) };
  }
  const now = Math.floor(Date.now() / 1000);
  const commit = await git.commit({
    fs,
    dir,
    ref,
    message: input.message,
    author: { ...input.author, timestamp: now, timezoneOffset: 0 },
    tree: target.commit.tree,
    parent: [head],
  });
  if (checkedOut) await git.checkout({ fs, dir, ref: input.branch, force: true });
  return { kind: 'committed', commit, previous: head };
}
