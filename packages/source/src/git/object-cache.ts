/**
 * One memory budget for what Git readers keep between reads. isomorphic-git keeps what it parses of a repository's
 * packs in the `cache` object it is handed: each pack's index, and the whole pack file once an object is read from
 * it, for as long as that object is passed in again. Readers also keep parsed pack indexes of their own (object sizes).
 * Unchecked, a long-lived reader holds every pack it ever touched, and one reader per repository adds up.
 *
 * Every pack and index file a reader loads is counted as it is read (through the `fs` handed to isomorphic-git).
 * When the total held by all readers of one budget is over `maxBytes`, the least recently used other readers drop
 * their caches (their next read starts from an empty one). The reader that is loading keeps what it loads until its
 * operation ends: `trim()`, called after each operation (an ingest, a sync), then drops caches, least recently used
 * first, until the total is within the budget again. Memory stays within the budget plus what one operation reads,
 * however many repositories, packs and fetches there are, and a repository whose packs are larger than the budget is
 * still read without reloading a pack for every object.
 */
import nodeFs from 'node:fs';
import type { PromiseFsClient } from 'isomorphic-git';
import type { PackIndexCache } from './object-size.js';

export interface ReaderCache {
  /** The `fs` to hand isomorphic-git: node's, with pack and index reads counted. */
  readonly fs: PromiseFsClient;
  /** The isomorphic-git cache to pass to this read (a new object after a drop). */
  git(): object;
  /** Parsed pack indexes for object sizes (a new map after a drop). */
  packs(): PackIndexCache;
  /** Counts bytes loaded into the current caches outside isomorphic-git (object-size's index reads). */
  loaded(bytes: number): void;
  /** Forgets everything held (a new clone replaced the packs). */
  drop(): void;
  /** Bytes loaded into the current caches. */
  heldBytes(): number;
}

export interface ObjectCacheBudget {
  readonly maxBytes: number;
  /** A cache for one reader, counted against this budget. */
  register(): ReaderCache;
  /** Drops caches, least recently used first, until the total is within `maxBytes`. Call after each operation. */
  trim(): void;
  stats(): { heldBytes: number; readers: number; drops: number };
}

const PACK_FILE = /\.(pack|idx)$/;

export function createObjectCacheBudget(options: { maxBytes: number }): ObjectCacheBudget {
  const { maxBytes } = options;
  const entries = new Set<{ held: number; lastUse: number; drop(): void }>();
  let clock = 0;
  let drops = 0;

  const total = () => {
    let sum = 0;
    for (const e of entries) sum += e.held;
    return sum;
  };
  /** Drops the least recently used caches (but not `keep`'s) until the total is within the budget. */
  const shrink = (keep?: { held: number }) => {
    let held = total();
    if (held <= maxBytes) return;
    const candidates = [...entries].filter((e) => e !== keep && e.held > 0).sort((a, b) => a.lastUse - b.lastUse);
    for (const e of candidates) {
      if (held <= maxBytes) return;
      held -= e.held;
      e.drop();
    }
  };

  return {
    maxBytes,
    trim: () => shrink(),
    stats: () => ({ heldBytes: total(), readers: entries.size, drops }),
    register() {
      let gitCache: object = {};
      let packs: PackIndexCache = new Map();
      const entry = {
        held: 0,
        lastUse: 0,
        drop() {
          gitCache = {};
          packs = new Map();
          if (entry.held > 0) drops++;
          entry.held = 0;
        },
      };
      entries.add(entry);
      const loaded = (bytes: number) => {
        entry.held += bytes;
        entry.lastUse = ++clock;
        shrink(entry);
      };
      const promises = {
        ...nodeFs.promises,
        async readFile(...args: Parameters<typeof nodeFs.promises.readFile>) {
          const data = await nodeFs.promises.readFile(...args);
          if (PACK_FILE.test(String(args[0]))) loaded(data.length);
          return data;
        },
      };
      return {
        fs: { promises } satisfies PromiseFsClient,
        git: () => {
          entry.lastUse = ++clock;
          return gitCache;
        },
        packs: () => packs,
        loaded,
        drop: () => entry.drop(),
        heldBytes: () => entry.held,
      };
    },
  };
}
