/**
 * The control plane's HTTP edge as a stranger meets it (issue 11): slow senders are cut off, bodies are bounded per
 * route, metrics never grow a series per request, one poisoned delivery never fails the others, a failed delivery
 * that GitHub redelivers is processed again, old deliveries are pruned, and /readyz says nothing about why.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import net from 'node:net';
import { deliveries, sql } from '@wharf/store';
import { capturingLog, createTestDatabase, issueCommentPayload, pullRequestPayload, pushPayload, signedDelivery, signPayload } from '@wharf/testkit';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import t from 'tap';
import { buildServer, createGitHubApp, type GitHubApp, type HttpLimits } from '../src/index.js';
import { createDeliveryBatcher } from '../src/github/webhook-route.js';
import { manifest, REPO, startHarness, workflow } from './helpers/harness.js';

const SECRET = 'edge-secret';
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });

/** The server with the GitHub App's route (nothing sent to GitHub) and one small route of another unit. */
async function edge(t: Parameters<typeof createTestDatabase>[0], limits: Partial<HttpLimits> = {}) {
  const db = await createTestDatabase(t);
  const { log, lines } = capturingLog('debug');
  const registry = new Registry();
  const app: GitHubApp = createGitHubApp({
    pool: db.pool,
    log,
    registry,
    credentials: { appId: 1, privateKey, webhookSecret: SECRET, apiUrl: 'http://127.0.0.1:9', webhookPath: '/api/github/webhooks', publicUrl: undefined },
    source: {} as never,
    janitorCron: null,
  });
  const other = {
    name: 'other',
    plugin: async (f: FastifyInstance) => {
      f.post('/api/echo', async (req) => ({ bytes: JSON.stringify(req.body).length }));
    },
  };
  const server = await buildServer({ log, pool: db.pool, registry, version: 'test', units: [{ name: 'github', plugin: app.plugin }, other], limits });
  t.teardown(() => server.close());
  return { db, app, server, lines, registry };
}

const post = (server: FastifyInstance, event: string, payload: unknown, id = randomUUID()) => {
  const d = signedDelivery(SECRET, event, payload, id);
  return server.inject({ method: 'POST', url: '/api/github/webhooks', headers: d.headers, payload: d.body });
};

t.test('bodies are bounded per route: 1 MiB by default, 25 MiB on the webhook route', async (t) => {
  const { server } = await edge(t);
  const big = { action: 'created', installation: { id: 1 }, filler: 'x'.repeat(5 * 1024 * 1024) };
  const toOther = await server.inject({ method: 'POST', url: '/api/echo', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(big) });
  t.equal(toOther.statusCode, 413, 'another route refuses 5 MiB');
  const small = await server.inject({ method: 'POST', url: '/api/echo', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ ok: true }) });
  t.equal(small.statusCode, 200, 'and takes a small body');
  t.equal((await post(server, 'star', big)).statusCode, 202, 'the webhook route takes 5 MiB (GitHub sends up to 25 MB)');
  const huge = JSON.stringify({ filler: 'x'.repeat(26 * 1024 * 1024) });
  const over = await server.inject({
    method: 'POST',
    url: '/api/github/webhooks',
    headers: { 'content-type': 'application/json', 'x-github-event': 'star', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signPayload(SECRET, huge) },
    payload: huge,
  });
  t.equal(over.statusCode, 413, 'but not more than 25 MiB');
});

t.test('slow senders are cut off: headers or body not in within the request timeout, idle connections closed', async (t) => {
  const { server } = await edge(t, { requestTimeoutMs: 300, idleTimeoutMs: 600 });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.server.address() as net.AddressInfo;
  /** Opens a connection, writes `text`, and resolves with what the server answered when it closed the connection. */
  const trickle = (text: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
      let answer = '';
      socket.on('data', (d) => (answer += d.toString('utf8')));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
      // A bound for the test itself: far above the server's timeouts.
      setTimeout(() => {
        socket.destroy();
        reject(new Error('the server kept the connection open'));
      }, 30_000).unref();
    });
  t.match(await trickle('POST /api/github/webhooks HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\n'), /^HTTP\/1\.1 408/, 'headers that never end: 408');
  t.match(
    await trickle('POST /api/github/webhooks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":'),
    /^(HTTP\/1\.1 408 |$)/,
    'a body that never ends: cut off (408 or closed)',
  );
  t.match(await trickle(''), /^(HTTP\/1\.1 408 |$)/, 'a connection that sends nothing is closed');
});

t.test('metrics labels come from a fixed set: unsigned or garbage requests create no series', async (t) => {
  const { server } = await edge(t);
  const before = (await server.inject({ method: 'GET', url: '/metrics' })).body;
  for (let i = 0; i < 25; i++) {
    const event = `evil_${randomUUID()}`;
    await server.inject({ method: 'POST', url: '/api/github/webhooks', headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': randomUUID() }, payload: '{}' });
    await server.inject({ method: 'POST', url: '/api/github/webhooks', headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-hub-signature-256': 'sha256=00' }, payload: '{}' });
    // Signed, but an event Wharf does not know (GitHub adds events): counted as "other".
    await post(server, `new_event_${i}`, { action: 'x' });
  }
  const after = (await server.inject({ method: 'GET', url: '/metrics' })).body;
  t.notMatch(after, /evil_|new_event_/, 'no label carries what the sender wrote');
  const series = (text: string) => text.split('\n').filter((l) => l.startsWith('wharf_github_webhooks_received_total{'));
  t.same(
    series(after).map((l) => l.replace(/ \d+$/, '')).sort(),
    ['wharf_github_webhooks_received_total{event="other",result="stored"}', 'wharf_github_webhooks_received_total{event="unverified",result="bad_signature"}'],
    'two series for 75 requests',
  );
  t.equal(series(before).length, 0);
});

t.test('one poisoned delivery never fails the rest of its batch', async (t) => {
  const { db, server } = await edge(t);
  // A batch as concurrent requests make one: a payload Postgres cannot store (a lone UTF-16 surrogate) among good ones.
  const store = createDeliveryBatcher(db.pool, { maxInFlight: 1 });
  const delivery = (i: number, payload: string) => ({ deliveryId: `batch-${i}`, event: 'star', action: 'created', payload, orderingKey: null });
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) => store(delivery(i, i === 13 ? '{"note":"\\ud800"}' : i === 7 ? '{"note":"nul \\u0000 here"}' : `{"n":${i}}`))),
  );
  t.same(
    results.map((r) => r.status),
    Array.from({ length: 20 }, (_, i) => (i === 13 ? 'rejected' : 'fulfilled')),
    'only the poisoned one is refused',
  );
  t.match((results[13] as PromiseRejectedResult).reason, { name: 'UnstorableDeliveryError' });
  t.equal((await deliveries.countDeliveries(db.pool)).pending, 19, 'the other 19 are stored');
  const nul = await db.pool.oneFirst(sql.unsafe`SELECT payload->>'note' FROM webhook_deliveries WHERE delivery_id = 'batch-7'`);
  t.equal(nul, 'nul \ufffd here', 'a NUL escape Postgres refuses is kept as U+FFFD');

  const poisoned = await post(server, 'star', { note: '\ud800' });
  t.equal(poisoned.statusCode, 400, 'through the route, the poisoned delivery gets a clear 400');
  t.match(poisoned.json(), { error: /cannot be stored/ });
  const notObject = signedDelivery(SECRET, 'star', [1, 2, 3]);
  t.equal((await server.inject({ method: 'POST', url: '/api/github/webhooks', headers: notObject.headers, payload: notObject.body })).statusCode, 400, 'a payload that is not an object is refused');
});

t.test('the worker: a delivery that breaks its handler, or that is not an object, never stops the rest of its batch', async (t) => {
  const h = await startHarness(t);
  const base = await h.commit('main', 'initial', { 'wharf.yaml': manifest(), 'apps/shop/main.yaml': workflow(8080) });
  // Stored as an older Wharf could have: a payload that is not an object, and one whose fields break the handler.
  await deliveries.insertDeliveries(h.db.pool, [
    { deliveryId: 'poison-array', event: 'push', action: null, payload: '[1,2,3]', orderingKey: null },
    { deliveryId: 'poison-fields', event: 'installation', action: 'created', payload: '{"installation":{"id":"x"},"repositories":"not a list"}', orderingKey: null },
  ]);
  const good = await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: '0'.repeat(40), after: base }));
  await h.settle();
  t.equal((await deliveries.getDelivery(h.db.pool, good.id))?.status, 'done', 'the good delivery was processed');
  t.equal((await deliveries.getDelivery(h.db.pool, 'poison-array'))?.status, 'ignored', 'the one that is not an object was ignored');
  t.not((await deliveries.getDelivery(h.db.pool, 'poison-fields'))?.status, 'processing', 'the one that broke its handler is retried or failed, not stuck');
  t.equal(h.fake.state.deploymentsFor(REPO.fullName, 'production').at(-1)?.sha, base);
});

t.test('a delivery that failed is processed again when GitHub redelivers it (same delivery id)', async (t) => {
  const h = await startHarness(t, { deliveryAttempts: 1 });
  const base = await h.commit('main', 'initial', { 'wharf.yaml': manifest(), 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: '0'.repeat(40), after: base }));
  const head = await h.commit('feature-41', 'change', { 'apps/shop/main.yaml': workflow(8081) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 41, headSha: head, headRef: 'feature-41' }));
  await h.settle();
  // GitHub is down when the command asks who the commenter is: the delivery fails.
  h.fake.inject({ fault: { kind: 'server-error', status: 502 }, times: 1, template: '/repos/{owner}/{repo}/collaborators/{username}/permission' });
  h.fake.state.setPermission(REPO.fullName, 'octocat', 'write');
  h.fake.state.comments.push({ id: 4101, repo: REPO.fullName, issue: 41, body: '/wharf redeploy', user: 'octocat', reactions: [], edits: 0 });
  const payload = issueCommentPayload(REPO, { issueNumber: 41, body: '/wharf redeploy', commentId: 4101, sender: 'octocat' });
  const first = await h.deliver('issue_comment', payload);
  await h.settle();
  t.equal((await deliveries.getDelivery(h.db.pool, first.id))?.status, 'failed', 'the delivery failed');
  t.same(h.fake.state.comments.find((c) => c.id === 4101)?.reactions, [], 'nothing answered');

  const again = await h.deliver('issue_comment', payload, first.id);
  t.equal(again.status, 202, 'the redelivery is stored again');
  t.same(again.body, { delivery: first.id, stored: true });
  await h.settle();
  t.equal((await deliveries.getDelivery(h.db.pool, first.id))?.status, 'done', 'and processed');
  t.same(h.fake.state.comments.find((c) => c.id === 4101)?.reactions, ['rocket'], 'the command was carried out');
  const third = await h.deliver('issue_comment', payload, first.id);
  t.same(third.body, { delivery: first.id, stored: false }, 'a redelivery of a delivery that succeeded is not processed twice');
});

t.test('finished deliveries are pruned after the retention period; pending ones never', async (t) => {
  const { db, app } = await edge(t);
  const ids = ['old-done', 'old-failed', 'old-pending', 'new-done'];
  await deliveries.insertDeliveries(db.pool, ids.map((id) => ({ deliveryId: id, event: 'star', action: null, payload: '{}', orderingKey: null })));
  await db.pool.query(sql.unsafe`UPDATE webhook_deliveries SET status = 'done' WHERE delivery_id IN ('old-done', 'new-done')`);
  await db.pool.query(sql.unsafe`UPDATE webhook_deliveries SET status = 'failed' WHERE delivery_id = 'old-failed'`);
  await db.pool.query(sql.unsafe`UPDATE webhook_deliveries SET received_at = now() - interval '15 days' WHERE delivery_id LIKE 'old-%'`);
  t.equal(await app.pruneDeliveries(), 2, 'two deleted (retention 14 days by default)');
  const left = await db.pool.anyFirst(sql.unsafe`SELECT delivery_id FROM webhook_deliveries ORDER BY delivery_id`);
  t.same(left, ['new-done', 'old-pending']);
});

t.test('/readyz says which check fails, never why, to anyone who asks; the log has the why', async (t) => {
  const db = await createTestDatabase(t);
  const { log, lines } = capturingLog('debug');
  const registry = new Registry();
  const broken = {
    name: 'github',
    ready: async () => {
      throw new Error('password authentication failed for user "wharf" at db.internal:5432 (postgres://wharf:hunter2@db.internal/wharf)');
    },
  };
  const server = await buildServer({ log, pool: db.pool, registry, version: 'test', units: [broken] });
  t.teardown(() => server.close());
  const res = await server.inject({ method: 'GET', url: '/readyz' });
  t.equal(res.statusCode, 503);
  t.same(res.json(), { status: 'not ready', checks: { database: 'ok', github: 'failing' } });
  t.notMatch(res.body, /password|db\.internal|hunter2/);
  const logged = lines.find((l) => l.msg === 'readiness check failing');
  t.match(logged?.obj, { check: 'github', error: /password authentication failed/ }, 'the operator finds the reason in the log');
  t.notMatch(JSON.stringify(logged?.obj), /hunter2/, 'with passwords in URLs redacted');

  await db.pool.end();
  const down = await server.inject({ method: 'GET', url: '/readyz' });
  t.equal(down.statusCode, 503);
  t.same(down.json().checks.database, 'failing', 'a database that is gone: failing, with no error text');
  t.equal(Object.keys(down.json()).sort().join(), 'checks,status');
});
