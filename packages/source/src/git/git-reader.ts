/**
 * Reads commits, trees and blobs straight from a repository's object store with isomorphic-git: nothing is checked
 * out, and a working copy is never touched. Every read is bounded: commit and tree objects over their limits and
 * blobs over the caller's limit are refused by their size before they are inflated, history walks stop after a
 * number of commits, and what is kept between reads counts against an object cache budget (object-cache.ts).
 */
import git from 'isomorphic-git';
import { createObjectCacheBudget, type ReaderCache } from './object-cache.js';
import { objectSize } from './object-size.js';
import { ObjectTooLargeError, READ_LIMITS, type ReadLimits } from './read-limits.js';

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

export interface TreeEntry {
  /** The entry's name in its tree (no slash). */
  path: string;
  oid: string;
  type: 'blob' | 'tree' | 'commit';
  mode: string;
}

export type BlobRead =
  | { kind: 'text'; content: string; size: number }
  | { kind: 'too-large'; size: number }
  | { kind: 'binary'; size: number }
  | { kind: 'not-utf8'; size: number };

export interface GitReader {
  gitdir: string;
  readonly limits: ReadLimits;
  readCommit(sha: string): Promise<CommitInfo>;
  /** The entries of one tree object (refused unread over `maxTreeBytes`). */
  readTree(oid: string): Promise<readonly TreeEntry[]>;
  /** Entries at the top of a tree. */
  listRoot(tree: string): Promise<TreeFile[]>;
  /**
   * Paths that differ between two trees (added, modified, deleted), identical subtrees skipped; null when more than
   * `maxChangedPaths` differ (treat everything as changed).
   */
  changedPaths(fromTree: string, toTree: string): Promise<string[] | null>;
  /** A blob as text, refused unread when over `maxBytes`, refused when binary or not UTF-8. */
  readText(oid: string, maxBytes: number): Promise<BlobRead>;
  isAncestor(ancestor: string, sha: string): Promise<boolean>;
  /** Whether the commit is in the object store. */
  hasCommit(sha: string): Promise<boolean>;
  /** Local branches (refs/heads/*), or a remote's branches as fetched (refs/remotes/<remote>/*). */
  listHeads(remote?: string): Promise<Map<string, string>>;
  /**
   * Commits reachable from `heads`, stopping early once every sha in `wanted` is seen, or after `limit` commits
   * (default `maxHistoryCommits`). Heads and parents that are not in the object store (never fetched) are skipped.
   */
  reachable(heads: string[], wanted: ReadonlySet<string>, limit?: number): Promise<Set<string>>;
  /** Forgets every cached object (the object store was replaced, e.g. cloned again). */
  reset(): void;
}

export interface GitReaderOptions {
  /** This reader's share of an object cache budget; default: a budget of its own of 64 MiB. */
  cache?: ReaderCache;
  limits?: Partial<ReadLimits>;
}

const isNotFound = (err: unknown) => (err as { code?: string })?.code === 'NotFoundError';

export function createGitReader(gitdir: string, options: GitReaderOptions = {}): GitReader {
  const objects = options.cache ?? createObjectCacheBudget({ maxBytes: 64 * 1024 * 1024 }).register();
  const limits: ReadLimits = { ...READ_LIMITS, ...options.limits };
  const fs = objects.fs;
  // Parsed trees by oid, kept across reads up to `maxCachedTreeEntries` entries in all.
  const trees = new Map<string, readonly TreeEntry[]>();
  let cachedEntries = 0;

  const checkSize = async (kind: 'commit' | 'tree', oid: string, limit: number) => {
    const size = await objectSize(gitdir, oid, objects.packs(), objects.loaded);
    if (size !== undefined && size > limit) throw new ObjectTooLargeError(kind, oid, size, limit);
  };

  const readTree = async (oid: string): Promise<readonly TreeEntry[]> => {
    const hit = trees.get(oid);
    if (hit) return hit;
    await checkSize('tree', oid, limits.maxTreeBytes);
    const { tree } = await git.readTree({ fs, gitdir, oid, cache: objects.git() });
    const entries = tree.map((e) => ({ path: e.path, oid: e.oid, type: e.type, mode: e.mode }));
    if (cachedEntries + entries.length > limits.maxCachedTreeEntries) {
      trees.clear();
      cachedEntries = 0;
    }
    trees.set(oid, entries);
    cachedEntries += entries.length;
    return entries;
  };

  const readCommitObject = async (oid: string) => {
    await checkSize('commit', oid, limits.maxCommitBytes);
    return (await git.readCommit({ fs, gitdir, oid, cache: objects.git() })).commit;
  };

  class TooManyChanges extends Error {}

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
      if (out.length > limits.maxChangedPaths) throw new TooManyChanges();
    }
  };

  return {
    gitdir,
    limits,
    async readCommit(sha) {
      const commit = await readCommitObject(sha);
      return {
        sha,
        tree: commit.tree,
        parents: commit.parent,
        author: `${commit.author.name} <${commit.author.email}>`,
        message: commit.message,
        committedAt: new Date(commit.committer.timestamp * 1000).toISOString(),
      };
    },
    readTree,
    async listRoot(tree) {
      return (await readTree(tree)).map((e) => ({ path: e.path, oid: e.oid }));
    },
    async changedPaths(fromTree, toTree) {
      const out: string[] = [];
      try {
        await diffUnder(fromTree, toTree, '', out);
      } catch (err) {
        if (err instanceof TooManyChanges) return null;
        throw err;
      }
      return out.sort();
    },
    async readText(oid, maxBytes) {
      const known = await objectSize(gitdir, oid, objects.packs(), objects.loaded);
      if (known !== undefined && known > maxBytes) return { kind: 'too-large', size: known };
      const { blob } = await git.readBlob({ fs, gitdir, oid, cache: objects.git() });
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
      return git
        .isDescendent({ fs, gitdir, oid: sha, ancestor, depth: limits.maxHistoryCommits, cache: objects.git() })
        .catch(() => false);
    },
    async hasCommit(sha) {
      return readCommitObject(sha)
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
    async reachable(heads, wanted, limit = limits.maxHistoryCommits) {
      const seen = new Set<string>();
      const queue = [...heads];
      let found = 0;
      while (queue.length > 0 && found < wanted.size && seen.size < limit) {
        const oid = queue.shift() as string;
        if (seen.has(oid)) continue;
        let parents: string[];
        try {
          parents = (await readCommitObject(oid)).parent;
        } catch (err) {
          if (isNotFound(err)) continue;
          throw err;
        }
        seen.add(oid);
        if (wanted.has(oid)) found++;
        queue.push(...parents);
      }
      return seen;
    },
    reset() {
      objects.drop();
      trees.clear();
      cachedEntries = 0;
    },
  };
}
