/**
 * Bounds on what reading one commit may cost. A repository is input from strangers (a fork, a push): however many
 * branches, files or commits it has, reading a version reads only the app's files, and each of these bounds holds.
 * Files themselves are bounded by LIMITS in @wharf/contracts (bytes per file, files per app).
 */
export interface ReadLimits {
  /** Bytes of one commit object (headers and message). A larger commit is refused unread. */
  maxCommitBytes: number;
  /** Bytes of one tree object (about 40 bytes per entry). A larger tree is refused unread. */
  maxTreeBytes: number;
  /** Tree entries looked at, per commit, to find the apps' files (distinct trees, summed). */
  maxTreeEntriesPerCommit: number;
  /** Bytes of app files read, per commit, across every app. */
  maxAppBytesPerCommit: number;
  /** Paths compared between a commit and its base; past it every app is read, as without a base. */
  maxChangedPaths: number;
  /** Commits walked for reachability and ancestry. */
  maxHistoryCommits: number;
  /** Tree entries kept parsed in memory by one reader, across commits. */
  maxCachedTreeEntries: number;
}

const MiB = 1024 * 1024;

export const READ_LIMITS: ReadLimits = {
  maxCommitBytes: 1 * MiB,
  maxTreeBytes: 8 * MiB,
  maxTreeEntriesPerCommit: 200_000,
  maxAppBytesPerCommit: 64 * MiB,
  maxChangedPaths: 100_000,
  maxHistoryCommits: 200_000,
  maxCachedTreeEntries: 200_000,
};

/** A commit or tree object over its limit: refused before it is inflated. */
export class ObjectTooLargeError extends Error {
  override readonly name = 'ObjectTooLargeError';
  readonly reason = 'ObjectTooLarge' as const;
  constructor(
    readonly kind: 'commit' | 'tree',
    readonly oid: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(`${kind} ${oid.slice(0, 12)} is ${size} bytes, over the limit of ${limit}: it was not read`);
  }
}
