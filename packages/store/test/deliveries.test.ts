import { createTestDatabase } from '@wharf/testkit';
import { deliveries, sql } from '@wharf/store';
import t from 'tap';

const delivery = (id: string, key: string | null) => ({ deliveryId: id, event: 'push', action: null, payload: '{}', orderingKey: key });
const claim = async (db: Awaited<ReturnType<typeof createTestDatabase>>, limit = 10) =>
  (await deliveries.claimDeliveries(db.pool, { limit, leaseSeconds: 300 })).map((d) => d.delivery_id).sort();

t.test('claims: the oldest unfinished delivery of each repository, only when due and free; deliveries without a key each on their own', async (t) => {
  const db = await createTestDatabase(t);
  for (const [id, key] of [['a1', 'repo-a'], ['b1', 'repo-b'], ['a2', 'repo-a'], ['n1', null], ['b2', 'repo-b'], ['n2', null]] as const) {
    await deliveries.insertDeliveries(db.pool, [delivery(id, key)]);
  }
  t.same(await claim(db), ['a1', 'b1', 'n1', 'n2'], 'one per repository, the oldest; every delivery without a key');
  t.same(await claim(db), [], 'a repository whose delivery is being processed waits');
  await deliveries.finishDelivery(db.pool, 'a1', { status: 'done' });
  await deliveries.retryDelivery(db.pool, 'b1', 3600, 'GitHub was down');
  t.same(await claim(db), ['a2'], "the next of repo-a; repo-b's head waits for its retry, and so does b2");
  await db.pool.query(sql.unsafe`UPDATE webhook_deliveries SET locked_until = now() - interval '1 second' WHERE delivery_id = 'a2'`);
  t.same(await claim(db), ['a2'], 'an expired lease is claimed again');
});

t.test('a backlog of 10,000 deliveries over 50 repositories is claimed from the index, not searched delivery by delivery', async (t) => {
  const db = await createTestDatabase(t);
  const ds = Array.from({ length: 10_000 }, (_, i) => delivery(`d${i}`, `repo-${i % 50}`));
  for (let i = 0; i < ds.length; i += 1_000) await deliveries.insertDeliveries(db.pool, ds.slice(i, i + 1_000));
  await db.pool.query(sql.unsafe`ANALYZE webhook_deliveries`);
  const claimed = await claim(db, 32);
  t.equal(claimed.length, 32);
  t.same(claimed, Array.from({ length: 32 }, (_, i) => `d${i}`).sort(), 'the oldest of 32 repositories, in the order of each batch');
  const plan = (await db.pool.anyFirst(sql.unsafe`
    EXPLAIN SELECT DISTINCT ON (ordering_key) delivery_id FROM webhook_deliveries
    WHERE status IN ('pending', 'processing') AND ordering_key IS NOT NULL ORDER BY ordering_key, seq`)).join('\n');
  t.match(plan, /Index Scan using webhook_deliveries_key_order/, 'one pass over the index of unfinished deliveries');
});

t.test('a failed delivery is queued again when it is redelivered; others are not stored twice', async (t) => {
  const db = await createTestDatabase(t);
  await deliveries.insertDeliveries(db.pool, [delivery('f', 'r'), delivery('d', 'r2')]);
  await deliveries.finishDelivery(db.pool, 'f', { status: 'failed', error: 'boom \u0000 with a NUL' });
  await deliveries.finishDelivery(db.pool, 'd', { status: 'done' });
  t.same([...(await deliveries.insertDeliveries(db.pool, [delivery('f', 'r'), delivery('d', 'r2'), delivery('f', 'r')]))], ['f']);
  t.match(await deliveries.getDelivery(db.pool, 'f'), { status: 'pending', attempts: 0, last_error: null });
  t.match(await deliveries.getDelivery(db.pool, 'd'), { status: 'done' });
});
