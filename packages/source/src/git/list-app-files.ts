/**
 * The files an app's globs can match at a commit, found by walking only the folders the globs start in: a monorepo
 * with a million files outside `apps/shop/` costs nothing to read `apps/shop/*.yaml`. Trees are counted against a
 * per-commit budget of entries (each distinct tree once), so that globs like `**` over a huge repository stop with an
 * answer instead of walking it all. The globs themselves are matched by @wharf/contracts (appFilePaths): this only
 * decides which part of the tree to list, a superset of what they match.
 */
import picomatch from 'picomatch';
import type { GitReader, TreeEntry, TreeFile } from './git-reader.js';
import { ObjectTooLargeError } from './read-limits.js';

const FILE_MODES = new Set(['100644', '100755']);

export interface TreeBudget {
  /** Entries that may still be looked at for this commit. */
  remaining: number;
  /** Trees already counted (a tree read twice is counted once). */
  readonly counted: Set<string>;
}

export const treeBudget = (maxEntries: number): TreeBudget => ({ remaining: maxEntries, counted: new Set() });

// The same normalisation appFilePaths applies to patterns and paths (leading `./` and `/`, backslashes).
const normalize = (p: string): string => p.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/^\/+/, '');

export interface GlobRoots {
  /** Folders to list, each down to `depth` levels (Infinity under `**`). */
  dirs: { dir: string; depth: number }[];
  /** Exact paths (patterns without glob characters). */
  files: string[];
}

/** Where globs can match: the folder each starts in and how deep it reaches, or the exact path. */
export function globRoots(patterns: readonly string[]): GlobRoots {
  const dirs = new Map<string, number>();
  const files = new Set<string>();
  for (const raw of patterns) {
    const pattern = normalize(raw);
    const scan = picomatch.scan(pattern);
    if (!scan.isGlob && !scan.negated) {
      files.add(pattern.replace(/\/+$/, ''));
      continue;
    }
    const dir = scan.negated ? '' : scan.base.replace(/\/+$/, '');
    // `**`, or a brace or extglob that may hold a slash, reaches any depth; otherwise one level per segment.
    const unbounded = scan.negated || scan.isGlobstar || scan.isExtglob || (scan.isBrace && scan.glob.includes('/')) || scan.glob.includes('**');
    const depth = unbounded ? Number.POSITIVE_INFINITY : scan.glob.split('/').length;
    dirs.set(dir, Math.max(dirs.get(dir) ?? 0, depth));
  }
  return { dirs: [...dirs].map(([dir, depth]) => ({ dir, depth })), files: [...files] };
}

class OverBudget extends Error {}

export async function listFilesUnder(
  reader: GitReader,
  tree: string,
  roots: GlobRoots,
  budget: TreeBudget,
): Promise<{ files: TreeFile[]; complete: true } | { files: TreeFile[]; complete: false; why: string }> {
  const read = async (oid: string): Promise<readonly TreeEntry[]> => {
    const entries = await reader.readTree(oid);
    if (!budget.counted.has(oid)) {
      budget.counted.add(oid);
      budget.remaining -= entries.length;
      if (budget.remaining < 0) throw new OverBudget();
    }
    return entries;
  };
  const resolveDir = async (dir: string): Promise<string | undefined> => {
    let oid = tree;
    for (const name of dir === '' ? [] : dir.split('/')) {
      const entry = (await read(oid)).find((e) => e.path === name);
      if (entry?.type !== 'tree') return undefined;
      oid = entry.oid;
    }
    return oid;
  };
  const found = new Map<string, TreeFile>();
  const walk = async (oid: string, prefix: string, depth: number): Promise<void> => {
    for (const e of await read(oid)) {
      const p = prefix ? `${prefix}/${e.path}` : e.path;
      if (e.type === 'tree' && depth > 1) await walk(e.oid, p, depth - 1);
      else if (e.type === 'blob' && FILE_MODES.has(e.mode)) found.set(p, { path: p, oid: e.oid });
    }
  };
  try {
    for (const file of roots.files) {
      const slash = file.lastIndexOf('/');
      const dir = await resolveDir(slash < 0 ? '' : file.slice(0, slash));
      if (dir === undefined) continue;
      const entry = (await read(dir)).find((e) => e.path === file.slice(slash + 1));
      if (entry?.type === 'blob' && FILE_MODES.has(entry.mode)) found.set(file, { path: file, oid: entry.oid });
    }
    for (const { dir, depth } of roots.dirs) {
      const oid = await resolveDir(dir);
      if (oid !== undefined) await walk(oid, dir, depth);
    }
  } catch (err) {
    if (err instanceof OverBudget) {
      return { files: [...found.values()], complete: false, why: `took this commit over ${reader.limits.maxTreeEntriesPerCommit} tree entries` };
    }
    if (err instanceof ObjectTooLargeError) {
      return { files: [...found.values()], complete: false, why: `met a folder of ${err.size} bytes of entries, over the limit of ${err.limit}` };
    }
    throw err;
  }
  return { files: [...found.values()], complete: true };
}
