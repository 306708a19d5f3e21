/** The REST API end to end on real Postgres: authentication, permissions, keys, lists, actions, problems, idempotency, ETags, rate limits, audit. */
import { API_ROUTES } from '@wharf/contracts';
import { sql } from '@wharf/store';
import { waitFor } from '@wharf/testkit';
import t from 'tap';
import { startApiHarness } from './helpers/api-harness.js';

t.test('credentials: missing, malformed, wrong checksum, unknown, revoked, expired', async (t) => {
  const h = await startApiHarness(t);
  const none = await h.call('GET', '/api/v1/environments');
  t.equal(none.status, 401);
  t.equal(none.body.code, 'unauthenticated');
  const basic = await h.call('GET', '/api/v1/environments', { headers: { authorization: 'Basic Zm9vOmJhcg==' } });
  t.equal(basic.body.code, 'invalid-credentials');
  const { key, id } = await h.key('acme', { name: 'ci', scopes: ['read'] });
  t.match(key, /^wharf_[0-9A-Za-z]{36}$/, 'a recognisable key with a checksum');
  const flipped = key.slice(0, 10) + (key[10] === 'a' ? 'b' : 'a') + key.slice(11);
  t.equal((await h.call('GET', '/api/v1/environments', { token: flipped })).body.code, 'invalid-credentials', 'a typo fails the checksum');
  t.equal((await h.call('GET', '/api/v1/environments', { token: key })).status, 200);
  t.equal((await h.call('DELETE', `/api/v1/keys/${id}`, { token: h.tokens.alice })).status, 204);
  const revoked = await h.call('GET', '/api/v1/environments', { token: key });
  t.equal(revoked.status, 401, 'a revoked key stops working at once (the cache forgets it)');
  t.equal(revoked.body.code, 'invalid-credentials');
  const short = await h.key('acme', { name: 'short', scopes: ['read'], expiresInDays: 1 });
  await h.db.pool.query(sql.unsafe`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = ${short.id}`);
  const expired = await h.call('GET', '/api/v1/environments', { token: short.key });
  t.equal(expired.status, 401);
  t.equal(expired.body.code, 'credentials-expired');
  t.notMatch(JSON.stringify([none.body, revoked.body, expired.body]), /globex/, 'no word of another organization');
});

t.test('roles: a viewer reads but cannot deploy; the 403 names the permission', async (t) => {
  const h = await startApiHarness(t);
  const env = h.acme.environmentIds[0];
  t.equal((await h.call('GET', `/api/v1/environments/${env}`, { token: h.tokens.vic })).status, 200);
  const denied = await h.call('POST', `/api/v1/environments/${env}/suspend`, { token: h.tokens.vic, body: {} });
  t.equal(denied.status, 403);
  t.equal(denied.body.code, 'permission-denied');
  t.equal(denied.body.permission, 'environments:deploy');
  t.equal((await h.call('GET', `/api/v1/environments/${env}/logs`, { token: h.tokens.vic })).body.permission, 'logs:read');
  const done = await h.call('POST', `/api/v1/environments/${env}/suspend`, { token: h.tokens.dan, body: { reason: 'freeze' } });
  t.equal(done.status, 200);
  t.equal(done.body.changed, true);
  t.equal(done.body.environment.state.word, 'Suspended');
  const again = await h.call('POST', `/api/v1/environments/${env}/suspend`, { token: h.tokens.dan, body: {} });
  t.equal(again.body.changed, false, 'suspending twice changes nothing');
  t.equal((await h.call('GET', '/api/v1/keys', { token: h.tokens.dan })).body.permission, 'keys:read', 'deployers do not see keys');
  const readKey = await h.key('acme', { name: 'reader', scopes: ['read'] });
  t.equal((await h.call('POST', `/api/v1/environments/${env}/resume`, { token: readKey.key, body: {} })).body.permission, 'environments:deploy', 'a read key cannot deploy');
});

t.test('bad input: malformed bodies name the field; bad JSON, bad cursors and bad limits are 400', async (t) => {
  const h = await startApiHarness(t);
  const noScopes = await h.call('POST', '/api/v1/keys', { token: h.tokens.alice, body: { name: 'x', scopes: [] } });
  t.equal(noScopes.status, 400);
  t.equal(noScopes.body.code, 'validation-failed');
  t.match(noScopes.body.errors, [{ field: '/scopes' }]);
  const extra = await h.call('POST', '/api/v1/keys', { token: h.tokens.alice, body: { name: 'x', scopes: ['read'], admin: true } });
  t.match(extra.body.errors, [{ field: '/admin', message: 'is not a known field' }]);
  const missing = await h.call('POST', `/api/v1/environments/${h.acme.environmentIds[0]}/rollback`, { token: h.tokens.alice, body: {} });
  t.match(missing.body.errors, [{ field: '/version' }]);
  const json = await h.call('POST', '/api/v1/keys', { token: h.tokens.alice, body: '{"name":', headers: { 'content-type': 'application/json' } });
  t.equal(json.status, 400);
  t.equal(json.body.code, 'malformed-json');
  t.equal((await h.call('GET', '/api/v1/environments?cursor=bm9wZQ', { token: h.tokens.alice })).body.code, 'invalid-cursor');
  t.equal((await h.call('GET', '/api/v1/environments?limit=1000', { token: h.tokens.alice })).status, 400);
  const huge = await h.call('PATCH', '/api/v1/organization', { token: h.tokens.alice, body: { name: 'x'.repeat(70_000) } });
  t.equal(huge.status, 413, 'bodies are bounded');
  t.equal((await h.call('GET', '/api/v1/nothing-here', { token: h.tokens.alice })).body.code, 'not-found');
});

t.test('isolation: every route with another organization’s ids answers as for ids that do not exist', async (t) => {
  const h = await startApiHarness(t);
  const acmeKey = await h.key('acme', { name: 'admin', scopes: ['admin'] });
  const globexKey = await h.key('globex', { name: 'theirs', scopes: ['admin'] });
  await h.call('POST', '/api/v1/invitations', { token: h.tokens.gil, body: { role: 'viewer' } });
  const theirInvitation = (await h.call('GET', '/api/v1/invitations', { token: h.tokens.gil })).body.items[0].id as number;
  const theirs: Record<string, number> = {
    environments: h.globex.environmentIds[0] ?? 0,
    versions: h.globex.versionIds[0] ?? 0,
    repositories: h.globex.repositoryId,
    keys: globexKey.id,
    invitations: theirInvitation,
    members: 5,
  };
  let checked = 0;
  for (const route of API_ROUTES.filter((r) => r.path.includes('{') && r.access !== 'user' && r.access !== 'public')) {
    const family = route.path.split('/')[1] ?? '';
    const existing = theirs[family];
    if (existing === undefined) continue;
    for (const credential of [h.tokens.alice, acmeKey.key]) {
      const body = route.body === 'RollbackRequest' ? { version: h.globex.shas[0] } : route.body === 'MemberUpdate' ? { role: 'viewer' } : route.body ? {} : undefined;
      const opts = { token: credential, ...(body !== undefined ? { body } : {}) };
      const foreign = await h.call(route.method, `/api/v1${route.path.replace(/\{[A-Za-z]+\}/, String(existing))}`, opts);
      const unknown = await h.call(route.method, `/api/v1${route.path.replace(/\{[A-Za-z]+\}/, '987654321')}`, opts);
      t.equal(foreign.status, 404, `${route.operationId} with globex's id`);
      const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined });
      t.same(strip(foreign.body), strip(unknown.body), `${route.operationId}: the same answer as for an id that does not exist`);
      checked += 1;
    }
  }
  t.ok(checked >= 24, `${checked} cross-organization requests`);
  // Their rows stayed as they were.
  const theirEnv = await h.call('GET', `/api/v1/environments/${theirs.environments}`, { token: globexKey.key });
  t.equal(theirEnv.body.suspended, false);
  t.equal((await h.call('GET', `/api/v1/keys/${globexKey.id}`, { token: globexKey.key })).body.revokedAt, null);
  // Lists never show another organization's rows.
  const globexIds: Record<string, number[]> = { environments: h.globex.environmentIds, versions: h.globex.versionIds, repositories: [h.globex.repositoryId] };
  for (const list of ['environments', 'versions', 'repositories', 'apps', 'audit', 'keys', 'members', 'invitations']) {
    const page = await h.call('GET', `/api/v1/${list}?limit=100`, { token: h.tokens.alice });
    t.equal(page.status, 200, list);
    t.notMatch(JSON.stringify(page.body), /globex|portal|"gil"/, `${list} of acme say nothing of globex`);
    const ids = globexIds[list];
    if (ids) t.notOk(page.body.items.some((i: { id: number }) => ids.includes(i.id)), `${list}: no globex id`);
  }
  const wrongOrg = await h.call('GET', '/api/v1/environments', { token: acmeKey.key, headers: { 'wharf-organization': 'globex' } });
  t.equal(wrongOrg.status, 403);
  t.equal(wrongOrg.body.code, 'wrong-organization');
  const notMine = await h.call('GET', '/api/v1/environments', { token: h.tokens.alice, headers: { 'wharf-organization': 'globex' } });
  const noSuch = await h.call('GET', '/api/v1/environments', { token: h.tokens.alice, headers: { 'wharf-organization': 'no-such-org' } });
  t.equal(notMine.status, 403);
  t.same({ ...notMine.body, requestId: 0, detail: 0 }, { ...noSuch.body, requestId: 0, detail: 0 }, 'an organization one is not in looks like one that does not exist');
});

t.test('keys: shown once, listed without the secret, scoped to repositories, rotated', async (t) => {
  const h = await startApiHarness(t);
  const made = await h.call('POST', '/api/v1/keys', { token: h.tokens.ada, body: { name: 'gate', scopes: ['deploy'], repositoryIds: [h.acme.repositoryId] } });
  t.equal(made.status, 201);
  t.ok(made.body.key.startsWith('wharf_'));
  t.notOk(made.body.permissions.includes('keys:manage'), 'a deploy key cannot manage keys');
  const listed = await h.call('GET', '/api/v1/keys', { token: h.tokens.alice });
  t.notMatch(listed.text, made.body.key, 'the secret is never listed');
  t.notMatch(listed.text, made.body.key.slice(6), 'nor any of its random part beyond the prefix');
  const stored = await h.db.pool.query(sql.unsafe`SELECT encode(secret_hash, 'hex') AS h FROM api_keys WHERE id = ${made.body.id}`);
  t.notMatch(JSON.stringify(stored.rows), made.body.key.slice(6, 20), 'only a hash is stored');
  const foreignRepo = await h.call('POST', '/api/v1/keys', { token: h.tokens.alice, body: { name: 'x', scopes: ['read'], repositoryIds: [h.globex.repositoryId] } });
  t.equal(foreignRepo.status, 400, "another organization's repository is not a valid scope");
  const rotated = await h.call('POST', `/api/v1/keys/${made.body.id}/rotate`, { token: h.tokens.alice });
  t.equal(rotated.status, 201);
  t.not(rotated.body.key, made.body.key);
  t.equal((await h.call('GET', '/api/v1/environments', { token: made.body.key })).status, 401, 'the old key is revoked');
  const envs = await h.call('GET', '/api/v1/environments', { token: rotated.body.key });
  t.equal(envs.status, 200, 'the new key works');
  t.same(envs.body.items.map((e: { id: number }) => e.id).sort(), [...h.acme.environmentIds].sort());
  // last_used_at is written in batches when the unit flushes.
  await h.unit.stop?.();
  const used = await h.call('GET', `/api/v1/keys/${rotated.body.id}`, { token: h.tokens.alice });
  t.ok(used.body.lastUsedAt, 'when a key was last used is recorded');
});

t.test('lists: cursor pages walk everything once; ETag and If-None-Match', async (t) => {
  const h = await startApiHarness(t);
  const seen: number[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 10; i++) {
    const page: { body: { items: { id: number }[]; nextCursor: string | null } } = await h.call('GET', `/api/v1/environments?limit=4${cursor ? `&cursor=${cursor}` : ''}`, { token: h.tokens.vic });
    seen.push(...page.body.items.map((e) => e.id));
    cursor = page.body.nextCursor;
    if (!cursor) break;
  }
  t.same([...seen].sort(), [...h.acme.environmentIds].sort(), 'every environment once');
  const first = await h.call('GET', `/api/v1/environments/${h.acme.environmentIds[0]}`, { token: h.tokens.vic });
  const etag = String(first.headers.etag);
  t.match(etag, /^"[A-Za-z0-9_-]+"$/);
  const again = await h.call('GET', `/api/v1/environments/${h.acme.environmentIds[0]}`, { token: h.tokens.vic, headers: { 'if-none-match': etag } });
  t.equal(again.status, 304);
  t.equal(again.text, '');
  await h.call('POST', `/api/v1/environments/${h.acme.environmentIds[0]}/suspend`, { token: h.tokens.dan, body: {} });
  const changed = await h.call('GET', `/api/v1/environments/${h.acme.environmentIds[0]}`, { token: h.tokens.vic, headers: { 'if-none-match': etag } });
  t.equal(changed.status, 200, 'a changed environment is sent again');
  const filtered = await h.call('GET', '/api/v1/environments?app=admin&name=production', { token: h.tokens.vic });
  t.same(filtered.body.items.map((e: { app: string; name: string }) => `${e.app}/${e.name}`), ['admin/production']);
  const version = await h.call('GET', `/api/v1/versions/${h.acme.versionIds[0]}`, { token: h.tokens.vic });
  t.equal(version.body.sha, h.acme.shas[0]);
  t.same(version.body.apps.map((a: { app: string }) => a.app), ['admin', 'shop']);
  t.same((await h.call('GET', '/api/v1/apps', { token: h.tokens.vic })).body.items.map((a: { name: string; environments: number }) => [a.name, a.environments]), [['admin', 3], ['shop', 3]]);
});

t.test('idempotency keys replay the first result; a different request with the same key is refused', async (t) => {
  const h = await startApiHarness(t);
  const headers = { 'idempotency-key': 'make-ci-key-1' };
  const first = await h.call('POST', '/api/v1/keys', { token: h.tokens.alice, body: { name: 'ci', scopes: ['read'] }, headers });
  const second = await h.call('POST', '/api/v1/keys', { token: h.tokens.alice, body: { name: 'ci', scopes: ['read'] }, headers });
  t.equal(second.status, 201);
  t.equal(second.headers['idempotent-replayed'], 'true');
  const { secretShownOnce, ...replayed } = second.body;
  const { key: _secret, ...firstWithoutSecret } = first.body;
  t.same(replayed, firstWithoutSecret, 'the same key, not a second one');
  t.match(secretShownOnce, /shown once/, 'its secret was shown once');
  t.equal((await h.call('GET', '/api/v1/keys', { token: h.tokens.alice })).body.items.length, 1);
  const other = await h.call('POST', '/api/v1/keys', { token: h.tokens.alice, body: { name: 'other', scopes: ['read'] }, headers });
  t.equal(other.status, 422);
  t.equal(other.body.code, 'idempotency-key-reused');
  const env = h.acme.environmentIds[0];
  const r1 = await h.call('POST', `/api/v1/environments/${env}/redeploy`, { token: h.tokens.dan, body: {}, headers: { 'idempotency-key': 'r1' } });
  const r2 = await h.call('POST', `/api/v1/environments/${env}/redeploy`, { token: h.tokens.dan, body: {}, headers: { 'idempotency-key': 'r1' } });
  t.equal(r2.body.generation, r1.body.generation, 'a retried redeploy does not roll out twice');
  const gen = await h.db.pool.oneFirst(sql.unsafe`SELECT generation FROM environments WHERE id = ${env}`);
  t.equal(Number(gen), r1.body.generation);
});

t.test('rate limits: RateLimit headers; an empty bucket answers 429 with Retry-After; shared through Postgres', async (t) => {
  const h = await startApiHarness(t);
  await h.db.pool.query(sql.unsafe`UPDATE tenants SET plan = 'free' WHERE id = ${h.acme.tenantId}`);
  const { key, id } = await h.key('acme', { name: 'busy', scopes: ['read'] });
  const ok = await h.call('GET', '/api/v1/environments', { token: key });
  t.equal(ok.headers['ratelimit-limit'], '10', "the Free plan's 10 requests per second");
  t.ok(Number(ok.headers['ratelimit-remaining']) <= 19);
  // Other replicas (any process on the same database) overspent the organization's bucket: a whole bucket of debt.
  // This replica refuses once it has settled with Postgres (every 200 ms; rate-limit.test.ts proves the sharing).
  await h.db.pool.query(sql.unsafe`UPDATE api_rate_buckets SET tokens = -20, updated_at = clock_timestamp() WHERE bucket = ${`org:${h.acme.tenantId}`}`);
  const left = Number(ok.headers['ratelimit-remaining']);
  let admitted = 0;
  const limited = await waitFor('a 429', async () => {
    const res = await h.call('GET', '/api/v1/environments', { token: key });
    if (res.status !== 429) admitted += 1;
    return res.status === 429 ? res : undefined;
  });
  t.ok(admitted < left, `refused after ${admitted} more requests, before this replica's own ${left} tokens ran out`);
  t.equal(limited.status, 429);
  t.equal(limited.body.code, 'rate-limited');
  t.ok(Number(limited.headers['retry-after']) >= 1);
  t.equal(limited.headers['ratelimit-remaining'], '0');
  t.equal((await h.call('GET', '/api/v1/environments', { token: h.tokens.gil })).status, 200, 'another organization is not limited');
  await h.db.pool.query(sql.unsafe`DELETE FROM api_rate_buckets`);
  let refused = 0;
  for (let i = 0; i < 300 && refused === 0; i++) if ((await h.call('GET', `/api/v1/keys/${id}`, { token: h.tokens.alice })).status === 429) refused += 1;
  t.equal(refused, 1, 'a burst past the bucket is refused');
});

t.test('audit: API actions are written with actor, request id and source; the log is append-only and exports as JSON lines', async (t) => {
  const h = await startApiHarness(t);
  const { key } = await h.key('acme', { name: 'bot', scopes: ['deploy'] });
  const env = h.acme.environmentIds[1];
  await h.call('POST', `/api/v1/environments/${env}/suspend`, { token: key, body: { reason: 'incident 42' }, headers: { 'x-request-id': 'req-abc' } });
  const found = await h.call('GET', `/api/v1/audit?environment=${env}`, { token: h.tokens.alice });
  t.equal(found.body.items.length, 1);
  t.match(found.body.items[0], { action: 'suspend', actorKind: 'key', actor: /^key:wharf_\w{4} \(bot\)$/, reason: 'incident 42', requestId: 'req-abc', sourceIp: '127.0.0.1' });
  t.same(found.body.items[0].details.before, { suspended: false });
  const byAction = await h.call('GET', '/api/v1/audit?action=api-key.create', { token: h.tokens.alice });
  t.equal(byAction.body.items[0].actor, 'user:alice');
  await t.rejects(h.db.pool.query(sql.unsafe`UPDATE audit_log SET reason = 'nothing happened'`), /append-only/);
  await t.rejects(h.db.pool.query(sql.unsafe`DELETE FROM audit_log`), /append-only/);
  const denied = await h.call('GET', '/api/v1/audit/export', { token: h.tokens.alice });
  t.equal(denied.status, 200, 'owners export');
  const lines = denied.text.trim().split('\n').map((l) => JSON.parse(l) as { id: number; action: string });
  t.ok(lines.length >= 2);
  t.same(lines.map((l) => l.id), [...lines.map((l) => l.id)].sort((a, b) => a - b), 'oldest first');
  t.equal((await h.call('GET', '/api/v1/audit/export', { token: key })).body.permission, 'audit:export');
});

t.test('members: only owners touch owners; the last owner stays; invitations are redeemed once', async (t) => {
  const h = await startApiHarness(t);
  const members = (await h.call('GET', '/api/v1/members', { token: h.tokens.ada })).body.items as { user: { id: number; login: string }; role: string }[];
  const alice = members.find((m) => m.user.login === 'alice')?.user.id;
  const dan = members.find((m) => m.user.login === 'dan')?.user.id;
  const toOwner = await h.call('PATCH', `/api/v1/members/${dan}`, { token: h.tokens.ada, body: { role: 'owner' } });
  t.equal(toOwner.body.permission, 'organization:own', 'an admin cannot make owners');
  t.equal((await h.call('DELETE', `/api/v1/members/${alice}`, { token: h.tokens.ada })).body.permission, 'organization:own');
  const last = await h.call('PATCH', `/api/v1/members/${alice}`, { token: h.tokens.alice, body: { role: 'admin' } });
  t.equal(last.status, 409);
  t.equal(last.body.code, 'last-owner');
  t.equal((await h.call('PATCH', `/api/v1/members/${dan}`, { token: h.tokens.ada, body: { role: 'viewer' } })).body.role, 'viewer');
  const inv = await h.call('POST', '/api/v1/invitations', { token: h.tokens.alice, body: { role: 'deployer', login: 'gil' } });
  t.equal(inv.status, 201);
  t.ok(inv.body.token);
  t.notOk((await h.call('GET', '/api/v1/invitations', { token: h.tokens.alice })).body.items[0].token, 'the token is shown once');
  const joined = await h.call('POST', '/api/v1/invitations/accept', { token: h.tokens.gil, body: { token: inv.body.token } });
  t.equal(joined.status, 200);
  t.equal(joined.body.slug, 'acme');
  t.equal(joined.body.role, 'deployer');
  t.equal((await h.call('POST', '/api/v1/invitations/accept', { token: h.tokens.gil, body: { token: inv.body.token } })).body.code, 'invitation-unusable');
  const several = await h.call('GET', '/api/v1/environments', { token: h.tokens.gil });
  t.equal(several.body.code, 'organization-required', 'someone in two organizations says which');
  t.equal((await h.call('GET', '/api/v1/environments', { token: h.tokens.gil, headers: { 'wharf-organization': 'acme' } })).body.items.length, 6);
  const log = await h.call('GET', '/api/v1/audit?action=member.add', { token: h.tokens.alice });
  t.match(log.body.items[0], { actor: 'user:gil', subject: 'user:gil', details: { after: { role: 'deployer' } } });
});

t.test('the local owner: no credentials from this machine only', async (t) => {
  const h = await startApiHarness(t, { WHARF_API_LOCAL_OWNER: 'true' });
  const local = await h.server.inject({ method: 'GET', url: '/api/v1/organization', remoteAddress: '127.0.0.1', headers: { host: '127.0.0.1:4600' } });
  t.equal(local.statusCode, 200);
  t.match(local.json(), { slug: 'local', role: 'owner' });
  const far = await h.server.inject({ method: 'GET', url: '/api/v1/organization', remoteAddress: '10.1.2.3', headers: { host: '127.0.0.1:4600' } });
  t.equal(far.statusCode, 401, 'not from another machine');
  const rebinding = await h.server.inject({ method: 'GET', url: '/api/v1/organization', remoteAddress: '127.0.0.1', headers: { host: 'evil.example:4600' } });
  t.equal(rebinding.statusCode, 401, 'not through a DNS-rebinding host name');
  const page = await h.server.inject({ method: 'POST', url: '/api/v1/keys', remoteAddress: '127.0.0.1', headers: { host: '127.0.0.1:4600', origin: 'https://evil.example' }, payload: { name: 'x', scopes: ['admin'] } });
  t.equal(page.statusCode, 401, 'not from a web page of another site');
});

t.test('the OpenAPI document and the reference page', async (t) => {
  const h = await startApiHarness(t);
  const doc = await h.call('GET', '/api/v1/openapi.json');
  t.equal(doc.status, 200);
  t.equal(doc.body.openapi, '3.1.0');
  t.equal(Object.values(doc.body.paths as Record<string, object>).reduce((n: number, item) => n + Object.keys(item).length, 0), API_ROUTES.length);
  const page = await h.call('GET', '/api/v1/docs');
  t.match(page.text, /fetch\('openapi\.json'\)/);
  t.match(String(page.headers['content-security-policy']), /default-src 'none'/);
});
