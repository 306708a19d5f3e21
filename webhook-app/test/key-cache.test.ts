/**
 * The verified-key cache on real Postgres, with a clock the test moves: a known key answers without a query, a key
 * in use is re-read in the background, a revocation that arrives during a read is not undone by it, and expiry of the
 * cache entry sends the next use back to the database.
 */
import { formatToken } from '@wharf/contracts';
import { apiKeys, sql } from '@wharf/store';
import { createTestDatabase, seedRepository, waitFor } from '@wharf/testkit';
import t from 'tap';
import { createKeyCache } from '../src/api/auth/key-cache.js';
import { hashSecret } from '../src/api/auth/secrets.js';

const PEPPER = Buffer.from('key-cache-test-pepper-key-cache-test-pepper');

async function setup(t: Parameters<typeof createTestDatabase>[0]) {
  const db = await createTestDatabase(t);
  const { tenantId } = await seedRepository(db.pool, { tenant: 'acme', kind: 'github', provider: 'github', fullName: 'acme/shop' });
  const secret = formatToken('apiKey', Buffer.alloc(30, 3));
  const hash = hashSecret(PEPPER, secret);
  const key = await apiKeys.createApiKey(db.pool, { tenantId }, {
    name: 'ci',
    prefix: secret.slice(0, 10),
    secretHash: hash,
    scopes: ['read'],
    permissions: ['environments:read'],
    repositoryIds: null,
    createdBy: 'test',
    expiresInDays: null,
  });
  let ms = 1_000_000;
  let reads = 0;
  const pool = new Proxy(db.pool, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'maybeOne' || typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        reads += 1;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const cache = createKeyCache(pool, { ttlMs: 30_000, now: () => ms });
  const revoke = () => db.pool.query(sql.unsafe`UPDATE api_keys SET revoked_at = now() WHERE id = ${key.id}`);
  return { db, cache, hash, key, revoke, reads: () => reads, advance: (by: number) => (ms += by) };
}

t.test('a known key answers without a query; half-way through its TTL it is re-read in the background', async (t) => {
  const s = await setup(t);
  t.equal(s.cache.peek(s.hash), undefined, 'unknown before its first use');
  t.equal((await s.cache.lookup(s.hash))?.id, s.key.id);
  t.equal(s.reads(), 1);
  t.equal(s.cache.peek(s.hash)?.id, s.key.id, 'known at once');
  t.equal(s.reads(), 1, 'without a query');
  // Revoked behind the cache's back (a missed notification): the background re-read finds out before the TTL ends.
  await s.revoke();
  s.advance(16_000);
  t.equal(s.cache.peek(s.hash)?.id, s.key.id, 'still answered from the cache while it is re-read');
  await waitFor('the background read', async () => s.cache.peek(s.hash) === null);
  t.equal(s.reads(), 2, 'one background read');
});

t.test('a revocation that arrives while the key is being read is not undone by that read', async (t) => {
  const s = await setup(t);
  const reading = s.cache.lookup(s.hash);
  // The read has been sent; the key's revocation is notified before the answer arrives.
  s.cache.forget(s.key.id);
  await s.revoke();
  await reading;
  t.equal(s.cache.peek(s.hash), undefined, 'what that read found is not cached');
  t.equal(await s.cache.lookup(s.hash), null, 'the next use reads again and finds the key revoked');
});

t.test('past its TTL an entry is read again before it is used', async (t) => {
  const s = await setup(t);
  await s.cache.lookup(s.hash);
  await s.revoke();
  s.advance(31_000);
  t.equal(s.cache.peek(s.hash), undefined);
  t.equal(await s.cache.lookup(s.hash), null);
  t.equal(s.reads(), 2);
});
