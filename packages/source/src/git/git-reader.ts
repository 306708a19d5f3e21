/**
 * Reads commits, trees and blobs straight from a repository's object store with isomorphic-git: nothing is checked
 * out, and a working copy is never touched.
 */
import fs from 'node:fs';
import git from 'isomorphic-git';
import { objectSize, type PackIndexCache } from './object-size.js';

export interface CommitInfo {
  sha: string;
  tree: string;
  parents: string[];
  author: string;
  message: string;
  committedAt: string;
}

export interface TreeFile {
  path: string;
  oid: string;
}

export type BlobRead =
  | { kind: 'text'; content: string; size: number }
  | { kind: 'too-large'; size: number }
  | { kind: 'binary'; size: number }
  | { kind: 'not-utf8'; size: number };

export interface GitReader {
  gitdir: string;
  readCommit(sha: string): Promise<CommitInfo>;
  /** Every file (regular and executable blobs; no symlinks or submodules) of a tree, with its blob id. */
  listFiles(tree: string): Promise<TreeFile[]>;
  /** Entries at the top of a tree. */
  listRoot(tree: string): Promise<TreeFile[]>;
  /** Paths that differ between two trees (added, modified, deleted), identical subtrees skipped. */
  changedPaths(fromTree: string, toTree: string): Promise<string[]>;
  /** A blob as text, refused unread when over `maxBytes`, refused when binary or not UTF-8. */
  readText(oid: string, maxBytes: number): Promise<BlobRead>;
  isAncestor(ancestor: string, sha: string): Promise<boolean>;
  /** Whether the commit is in the object store. */
  hasCommit(sha: string): Promise<boolean>;
  /** Local branches (refs/heads/*), or a remote's branches as fetched (refs/remotes/<remote>/*). */
  listHeads(remote?: string): Promise<Map<string, string>>;
  /** Commits reachable from `heads`, stopping early once every sha in `wanted` is seen (or after `limit` commits). */
  reachable(heads: string[], wanted: ReadonlySet<string>, limit?: number): Promise<Set<string>>;
}

const FILE_MODES = new Set(['100644', '100755']);

export function createGitReader(gitdir: string): GitReader {
  // isomorphic-git's object cache (parsed pack indexes); one per repository, kept across reads.
  const cache = {};
  const packs: PackIndexCache = new Map();
  const trees = new Map<string, Awaited<ReturnType<typeof git.readTree>>['tree']>();

  const readTree = async (oid: string) => {
    const hit = trees.get(oid);
    if (hit) return hit;
    const { tree } = await git.readTree({ fs, gitdir, oid, cache });
    if (trees.size > 5_000) trees.clear();
    trees.set(oid, tree);
    return tree;
  };

  const listFilesUnder = async (tree: string, prefix: string, out: TreeFile[]): Promise<void> => {
    for (const e of await readTree(tree)) {
      const p = prefix ? `${prefix}/${e.path}` : e.path;
      if (e.type === 'tree') await listFilesUnder(e.oid, p, out);
      else if (e.type === 'blob' && FILE_MODES.has(e.mode)) out.push({ path: p, oid: e.oid });
    }
  };

  const diffUnder = async (a: string | undefined, b: string | undefined, prefix: string, out: string[]): Promise<void> => {
    if (a === b) return;
    const left = new Map((a ? await readTree(a) : []).map((e) => [e.path, e]));
    const right = new Map((b ? await readTree(b) : []).map((e) => [e.path, e]));
    for (const name of new Set([...left.keys(), ...right.keys()])) {
      const l = left.get(name);
      const r = right.get(name);
      if (l && r && l.oid === r.oid && l.mode === r.mode) continue;
      const p = prefix ? `${prefix}/${name}` : name;
      const lTree = l?.type === 'tree' ? l.oid : undefined;
      const rTree = r?.type === 'tree' ? r.oid : undefined;
      if (lTree || rTree) await diffUnder(lTree, rTree, p, out);
      if ((l && l.type !== 'tree') || (r && r.type !== 'tree')) out.push(p);
    }
  };

  return {
    gitdir,
    async readCommit(sha) {
      const { commit } = await git.readCommit({ fs, gitdir, oid: sha, cache });
      return {
        sha,
        tree: commit.tree,
        parents: commit.parent,
        author: `${commit.author.name} <${commit.author.email}>`,
        message: commit.message,
        committedAt: new Date(commit.committer.timestamp * 1000).toISOString(),
      };
    },
    async listFiles(tree) {
      const out: TreeFile[] = [];
      await listFilesUnder(tree, '', out);
      return out;
    },
    async listRoot(tree) {
      return (await readTree(tree)).map((e) => ({ path: e.path, oid: e.oid }));
    },
    async changedPaths(fromTree, toTree) {
      const out: string[] = [];
      await diffUnder(fromTree, toTree, '', out);
      return out.sort();
    },
    async readText(oid, maxBytes) {
      const known = await objectSize(gitdir, oid, packs);
      if (known !== undefined && known > maxBytes) return { kind: 'too-large', size: known };
      const { blob } = await git.readBlob({ fs, gitdir, oid, cache });
      const size = blob.byteLength;
      if (size > maxBytes) return { kind: 'too-large', size };
      // Git's own test for binary content: a NUL byte in the first 8000 bytes.
      if (blob.subarray(0, 8000).includes(0)) return { kind: 'binary', size };
      try {
        return { kind: 'text', content: new TextDecoder('utf-8', { fatal: true }).decode(blob), size };
      } catch {
        return { kind: 'not-utf8', size };
      }
    },
    async isAncestor(ancestor, sha) {
      if (ancestor === sha) return true;
      return git.isDescendent({ fs, gitdir, oid: sha, ancestor, depth: -1, cache }).catch(() => false);
    },
    async hasCommit(sha) {
      return git
        .readCommit({ fs, gitdir, oid: sha, cache })
        .then(() => true)
        .catch(() => false);
    },
    async listHeads(remote) {
      const names = await git.listBranches({ fs, gitdir, remote });
      const heads = new Map<string, string>();
      for (const name of names) {
        if (remote && name === 'HEAD') continue;
        const ref = remote ? `refs/remotes/${remote}/${name}` : `refs/heads/${name}`;
        heads.set(name, await git.resolveRef({ fs, gitdir, ref }));
      }
      return heads;
    },
    async reachable(heads, wanted, limit = Number.POSITIVE_INFINITY) {
      const seen = new Set<string>();
      const queue = [...heads];
      let found = 0;
      while (queue.length > 0 && found < wanted.size && seen.size < limit) {
        const oid = queue.shift() as string;
        if (seen.has(oid)) continue;
        seen.add(oid);
        if (wanted.has(oid)) found++;
        const { commit } = await git.readCommit({ fs, gitdir, oid, cache });
        queue.push(...commit.parent);
      }
      return seen;
    },
  };
}
