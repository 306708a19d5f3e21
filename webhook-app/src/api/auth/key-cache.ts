/**
 * Verified API keys, cached by the hash of their secret so that a request with a known key costs an HMAC and a map
 * lookup, not a query. Safe because: the cache is keyed by the keyed hash (never the secret), expiry is checked on
 * every use, a revocation NOTIFY drops the key on every replica at once (and a read that was under way when it came
 * is not cached), and entries are re-read after `ttlMs` in case a notification was missed. A key in use is re-read in
 * the background once it is half that old, so a busy key never waits for the database. Unknown hashes are remembered
 * briefly (bounded) so a flood of wrong keys is cheap.
 */
import { apiKeys, type DatabasePool } from '@wharf/store';

type Entry = { key: apiKeys.ActiveKey | null; at: number };

export interface KeyCache {
  /** The cached answer for `hash` while it is fresh (null: known not to be a key), undefined when it must be read. */
  peek(hash: Buffer): apiKeys.ActiveKey | null | undefined;
  lookup(hash: Buffer): Promise<apiKeys.ActiveKey | null>;
  /** Drops a key (revoked, rotated). */
  forget(keyId: number): void;
  clear(): void;
  size(): number;
}

export function createKeyCache(pool: DatabasePool, options: { ttlMs?: number; negativeTtlMs?: number; maxEntries?: number; now?: () => number } = {}): KeyCache {
  const ttl = options.ttlMs ?? 30_000;
  const negativeTtl = options.negativeTtlMs ?? 2_000;
  const max = options.maxEntries ?? 20_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const inflight = new Map<string, Promise<apiKeys.ActiveKey | null>>();
  // Bumped by every forget/clear: a read that began before one must not cache what it found.
  let epoch = 0;
  const put = (id: string, entry: Entry) => {
    entries.delete(id);
    if (entries.size >= max) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
    entries.set(id, entry);
  };
  const read = (id: string, hash: Buffer): Promise<apiKeys.ActiveKey | null> => {
    const pending = inflight.get(id);
    if (pending) return pending;
    const began = epoch;
    const reading = apiKeys
      .findActiveKeyByHash(pool, hash)
      .then((key) => {
        if (epoch === began) put(id, { key, at: now() });
        return key;
      })
      .finally(() => inflight.delete(id));
    inflight.set(id, reading);
    return reading;
  };
  const peek = (hash: Buffer): apiKeys.ActiveKey | null | undefined => {
    const id = hash.toString('base64');
    const hit = entries.get(id);
    if (!hit) return undefined;
    const age = now() - hit.at;
    if (age >= (hit.key ? ttl : negativeTtl)) return undefined;
    if (hit.key && age >= ttl / 2 && !inflight.has(id)) read(id, hash).catch(() => undefined);
    return hit.key;
  };
  return {
    peek,
    async lookup(hash) {
      const hit = peek(hash);
      return hit !== undefined ? hit : read(hash.toString('base64'), hash);
    },
    forget(keyId) {
      epoch += 1;
      for (const [id, e] of entries) if (e.key?.id === keyId) entries.delete(id);
    },
    clear: () => {
      epoch += 1;
      entries.clear();
    },
    size: () => entries.size,
  };
}
