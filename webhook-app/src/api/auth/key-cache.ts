/**
 * Verified API keys, cached by the hash of their secret so that a request with a known key costs an HMAC and a map
 * lookup, not a query. Safe because: the cache is keyed by the keyed hash (never the secret), expiry is checked on
 * every use, a revocation NOTIFY drops the key on every replica at once, and entries are re-read after `ttlMs` in
 * case a notification was missed. Unknown hashes are remembered briefly (bounded) so a flood of wrong keys is cheap.
 */
import { apiKeys, type DatabasePool } from '@wharf/store';

type Entry = { key: apiKeys.ActiveKey | null; at: number };

export interface KeyCache {
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
  const put = (id: string, entry: Entry) => {
    if (entries.size >= max) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
    entries.set(id, entry);
  };
  return {
    async lookup(hash) {
      const id = hash.toString('base64');
      const hit = entries.get(id);
      if (hit && now() - hit.at < (hit.key ? ttl : negativeTtl)) return hit.key;
      const pending = inflight.get(id);
      if (pending) return pending;
      const read = apiKeys
        .findActiveKeyByHash(pool, hash)
        .then((key) => {
          put(id, { key, at: now() });
          return key;
        })
        .finally(() => inflight.delete(id));
      inflight.set(id, read);
      return read;
    },
    forget(keyId) {
      for (const [id, e] of entries) if (e.key?.id === keyId) entries.delete(id);
    },
    clear: () => entries.clear(),
    size: () => entries.size,
  };
}
