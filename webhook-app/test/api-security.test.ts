/**
 * The REST API's security review, finding by finding, on real Postgres: keys limited to repositories stay within them,
 * secrets are not kept for idempotent replays, keys end with their creator's membership, the audit log and deletions
 * stay organization-wide, rollbacks are deduplicated per tenant, seats hold at acceptance, the reference page is not
 * framed.
 */
import { LIVE_EVENTS_CHANNEL, OUTBOX_KINDS, ROLE_PERMISSIONS, WHARF_COOKIES } from '@wharf/contracts';
import { idempotency, sql } from '@wharf/store';
import { seedEnvironments } from '@wharf/store/testing';
import { seedRepository, silentLog, waitFor } from '@wharf/testkit';
import t from 'tap';
import { SESSION_COOKIE } from '../src/api/auth/authenticate.js';
import { createLiveHub } from '../src/api/live/live-hub.js';
import { startApiHarness } from './helpers/api-harness.js';

const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined });

t.test('a key limited to repositories sees, rotates and revokes only keys within them, and manages no one', async (t) => {
  const h = await startApiHarness(t);
  const other = await seedRepository(h.db.pool, { tenant: 'acme', kind: 'github', provider: 'github', fullName: 'acme/other' });
  const shopOnly = await h.key('acme', { name: 'shop admin', scopes: ['admin'], repositoryIds: [h.acme.repositoryId] });
  const everything = await h.key('acme', { name: 'org admin', scopes: ['admin'] });
  const wider = await h.key('acme', { name: 'both repos', scopes: ['read'], repositoryIds: [h.acme.repositoryId, other.repositoryId] });
  const sibling = await h.key('acme', { name: 'shop reader', scopes: ['read'], repositoryIds: [h.acme.repositoryId] });
  const as = { token: shopOnly.key };

  for (const target of [everything, wider]) {
    const rotate = await h.call('POST', `/api/v1/keys/${target.id}/rotate`, as);
    t.equal(rotate.status, 404, 'a key that reaches further cannot be rotated (its copy would reach as far)');
    const unknown = await h.call('POST', '/api/v1/keys/987654321/rotate', as);
    t.same(strip(rotate.body), strip(unknown.body), 'answered as for a key that does not exist');
    t.equal((await h.call('DELETE', `/api/v1/keys/${target.id}`, as)).status, 404, 'nor revoked');
    t.equal((await h.call('GET', `/api/v1/keys/${target.id}`, as)).status, 404, 'nor read');
    t.equal((await h.call('GET', '/api/v1/environments', { token: target.key })).status, 200, 'and it still works');
  }
  const listed = await h.call('GET', '/api/v1/keys', as);
  t.same(listed.body.items.map((k: { id: number }) => k.id).sort(), [shopOnly.id, sibling.id].sort(), 'the list shows only keys within its repositories');
  const all = await h.call('GET', '/api/v1/keys', { token: h.tokens.alice });
  t.equal(all.body.items.length, 4, 'an owner still sees every key');

  const rotated = await h.call('POST', `/api/v1/keys/${sibling.id}/rotate`, as);
  t.equal(rotated.status, 201, 'a key within its repositories is rotated');
  t.same(rotated.body.repositoryIds, [h.acme.repositoryId]);
  t.equal((await h.call('DELETE', `/api/v1/keys/${rotated.body.id}`, as)).status, 204, 'and revoked');

  const members = (await h.call('GET', '/api/v1/members', { token: h.tokens.alice })).body.items as { user: { id: number; login: string } }[];
  const dan = members.find((m) => m.user.login === 'dan')?.user.id;
  const invitation = await h.call('POST', '/api/v1/invitations', { token: h.tokens.alice, body: { role: 'viewer' } });
  const refused: [string, string, unknown, string][] = [
    ['PATCH', `/api/v1/members/${dan}`, { role: 'admin' }, 'members:manage'],
    ['DELETE', `/api/v1/members/${dan}`, undefined, 'members:manage'],
    ['POST', '/api/v1/invitations', { role: 'admin' }, 'members:manage'],
    ['DELETE', `/api/v1/invitations/${invitation.body.id}`, undefined, 'members:manage'],
    ['PATCH', '/api/v1/organization', { name: 'Taken over' }, 'organization:manage'],
  ];
  for (const [method, url, body, permission] of refused) {
    const res = await h.call(method as 'POST', url, { ...as, ...(body !== undefined ? { body } : {}) });
    t.equal(res.status, 403, `${method} ${url}`);
    t.equal(res.body.code, 'permission-denied');
    t.equal(res.body.permission, permission, 'names the permission');
    t.match(res.body.detail, /limited to repositories/, 'and why');
  }
  t.equal((await h.call('GET', '/api/v1/members', { token: h.tokens.alice })).body.items.find((m: { user: { login: string } }) => m.user.login === 'dan').role, 'deployer', 'nothing changed');
  t.equal((await h.call('POST', '/api/v1/invitations', { token: everything.key, body: { role: 'viewer' } })).status, 201, 'a key of the whole organization still invites');
});

t.test('Idempotency-Keys keep no secret shown once: a replay says it was shown once; keys past 24 hours are pruned', async (t) => {
  const h = await startApiHarness(t);
  const made = await h.call('POST', '/api/v1/keys', { token: h.tokens.alice, body: { name: 'ci', scopes: ['read'] }, headers: { 'idempotency-key': 'k1' } });
  t.equal(made.status, 201);
  const rotated = await h.call('POST', `/api/v1/keys/${made.body.id}/rotate`, { token: h.tokens.alice, headers: { 'idempotency-key': 'k2' } });
  t.equal(rotated.status, 201);
  const invited = await h.call('POST', '/api/v1/invitations', { token: h.tokens.alice, body: { role: 'viewer' }, headers: { 'idempotency-key': 'k3' } });
  t.equal(invited.status, 201);
  const stored = JSON.stringify(await h.db.pool.any(sql.unsafe`SELECT body FROM api_idempotency`));
  for (const secret of [made.body.key, rotated.body.key, invited.body.token]) {
    t.ok(secret, 'the first answer holds the secret');
    t.notMatch(stored, secret.slice(6), 'no secret is stored for a replay');
  }
  const replays = [
    [await h.call('POST', '/api/v1/keys', { token: h.tokens.alice, body: { name: 'ci', scopes: ['read'] }, headers: { 'idempotency-key': 'k1' } }), made, 'key'],
    [await h.call('POST', `/api/v1/keys/${made.body.id}/rotate`, { token: h.tokens.alice, headers: { 'idempotency-key': 'k2' } }), rotated, 'key'],
    [await h.call('POST', '/api/v1/invitations', { token: h.tokens.alice, body: { role: 'viewer' }, headers: { 'idempotency-key': 'k3' } }), invited, 'token'],
  ] as const;
  for (const [replay, first, field] of replays) {
    t.equal(replay.status, first.status, 'the same status');
    t.equal(replay.headers['idempotent-replayed'], 'true');
    t.equal(replay.body.id, first.body.id, 'the same resource, not a second one');
    t.notOk(field in replay.body, `no ${field}`);
    t.match(replay.body.secretShownOnce, new RegExp(`the ${field} was shown once`), 'a note says why');
  }
  t.equal((await h.call('GET', '/api/v1/keys', { token: h.tokens.alice })).body.items.length, 2, 'one key made, one rotated: nothing twice');

  // Pruning: bounded per call, only what is past 24 hours, every tenant's.
  await h.db.pool.query(sql.unsafe`
    INSERT INTO api_idempotency (tenant_id, principal, key, request_hash, status, body, created_at)
    SELECT t, 'user:1', 'old-' || i, 'h', 201, '{}', now() - interval '25 hours' FROM unnest(${sql.array([h.acme.tenantId, h.globex.tenantId], 'int8')}::bigint[]) t, generate_series(1, 3) i`);
  const count = async () => Number(await h.db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM api_idempotency WHERE key LIKE 'old-%'`));
  t.equal(await idempotency.pruneIdempotencyKeysOfEveryTenant(h.db.pool, 4), 4, 'at most the bound per call');
  t.equal(await count(), 2);
  t.equal(await idempotency.pruneIdempotencyKeysOfEveryTenant(h.db.pool, 4), 2);
  t.equal(await idempotency.pruneIdempotencyKeysOfEveryTenant(h.db.pool, 4), 0);
  t.equal(Number(await h.db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM api_idempotency`)), 3, 'fresh keys stay');
  // The unit prunes when it starts, and then every ten minutes.
  await h.db.pool.query(sql.unsafe`UPDATE api_idempotency SET created_at = now() - interval '25 hours' WHERE key = 'k1'`);
  await h.unit.stop?.();
  h.unit.start?.();
  await waitFor('the unit prunes old keys', async () => (await h.db.pool.maybeOne(sql.unsafe`SELECT 1 FROM api_idempotency WHERE key = 'k1'`)) === null);
  t.pass('pruned by the unit');
});

t.test("API keys follow their creator's membership: demoted, capped to the new role; removed, revoked (keys made by their keys too)", async (t) => {
  const h = await startApiHarness(t);
  const made = await h.call('POST', '/api/v1/keys', { token: h.tokens.ada, body: { name: "ada's admin", scopes: ['admin'] } });
  t.equal(made.status, 201);
  const byKey = await h.call('POST', '/api/v1/keys', { token: made.body.key, body: { name: "made by ada's key", scopes: ['admin'] } });
  t.equal(byKey.status, 201);
  const alices = await h.key('acme', { name: "alice's", scopes: ['admin'] });
  const stored = await h.db.pool.any(sql.unsafe`SELECT id, created_by_user_id FROM api_keys ORDER BY id`);
  const ada = h.users.ada;
  t.same(stored.map((r) => Number(r.created_by_user_id)), [ada, ada, h.users.alice], "the creator's user id is stored; a key made by a key has the person behind it");

  const demoted = await h.call('PATCH', `/api/v1/members/${ada}`, { token: h.tokens.alice, body: { role: 'deployer' } });
  t.equal(demoted.status, 200);
  for (const key of [made.body.key, byKey.body.key]) {
    const keys = await h.call('GET', '/api/v1/keys', { token: key });
    t.equal(keys.status, 403, "a demoted member's key loses what their new role lacks, at once");
    t.equal(keys.body.permission, 'keys:read');
    t.equal((await h.call('GET', '/api/v1/environments', { token: key })).status, 200, 'and keeps what it still allows');
  }
  const capped = await h.call('GET', `/api/v1/keys/${made.body.id}`, { token: h.tokens.alice });
  t.ok(capped.body.permissions.length > 0 && capped.body.permissions.every((p: string) => (ROLE_PERMISSIONS.deployer as readonly string[]).includes(p)), 'only permissions a deployer holds');
  t.ok(capped.body.permissions.includes('environments:deploy'), 'those it keeps');
  t.notOk(capped.body.permissions.includes('keys:manage'));

  const removed = await h.call('DELETE', `/api/v1/members/${ada}`, { token: h.tokens.alice });
  t.equal(removed.status, 204);
  for (const key of [made.body.key, byKey.body.key]) {
    const res = await h.call('GET', '/api/v1/environments', { token: key });
    t.equal(res.status, 401, "a removed member's keys stop working at once");
  }
  t.equal((await h.call('GET', '/api/v1/environments', { token: alices.key })).status, 200, "others' keys are untouched");
  const log = await h.call('GET', '/api/v1/audit?action=member.remove', { token: h.tokens.alice });
  t.same(log.body.items[0].details.keysRevoked, [made.body.id, byKey.body.id], 'the audit log says which keys went with them');

  // A viewer's keys would hold nothing: demoting to viewer revokes a key left with no permission.
  const deployKey = await h.call('POST', '/api/v1/keys', { token: h.tokens.alice, body: { name: 'deploy only', scopes: ['deploy'] } });
  const dan = h.users.dan;
  await h.db.pool.query(sql.unsafe`UPDATE api_keys SET created_by_user_id = ${dan}, permissions = '{environments:deploy}' WHERE id = ${deployKey.body.id}`);
  t.equal((await h.call('PATCH', `/api/v1/members/${dan}`, { token: h.tokens.alice, body: { role: 'viewer' } })).status, 200);
  t.equal((await h.call('GET', `/api/v1/keys/${deployKey.body.id}`, { token: h.tokens.alice })).body.revokedAt !== null, true, 'a key left with nothing is revoked');
});

t.test('a key limited to repositories reads no audit log, and its live stream hears of no other repository, deletions included', async (t) => {
  const h = await startApiHarness(t);
  const limited = await h.key('acme', { name: 'shop reader', scopes: ['read'], repositoryIds: [h.acme.repositoryId] });
  const whole = await h.key('acme', { name: 'reader', scopes: ['read'] });
  const audit = await h.call('GET', '/api/v1/audit', { token: limited.key });
  t.equal(audit.status, 403, "the organization's audit log names every repository and person");
  t.equal(audit.body.permission, 'audit:read');
  t.match(audit.body.detail, /limited to repositories.*whole organization/);
  t.equal((await h.call('GET', '/api/v1/audit', { token: whole.key })).status, 200, 'a key of the whole organization reads it');

  const other = await seedRepository(h.db.pool, { tenant: 'acme', kind: 'github', provider: 'github', fullName: 'acme/secret-project' });
  const [mine, theirs] = await seedEnvironments(h.db.pool, [
    { tenantId: h.acme.tenantId, repositoryId: h.acme.repositoryId, app: 'shop', name: 'pr-50', kind: 'preview', digest: 'sha256:x', spec: null, versionId: null },
    { tenantId: h.acme.tenantId, repositoryId: other.repositoryId, app: 'secret', name: 'pr-51', kind: 'preview', digest: 'sha256:y', spec: null, versionId: null },
  ]);
  const hub = createLiveHub({ pool: h.db.pool, databaseUrl: h.db.url, log: silentLog, flushMs: 5 });
  t.teardown(() => hub.close());
  const heard = { limited: [] as string[], whole: [] as string[] };
  hub.subscribe({ tenantId: h.acme.tenantId, repositoryIds: [h.acme.repositoryId], send: (event, json) => heard.limited.push(`${event} ${json}`) });
  hub.subscribe({ tenantId: h.acme.tenantId, repositoryIds: null, send: (event, json) => heard.whole.push(`${event} ${json}`) });
  // Once the hub's LISTEN is connected, a probe is heard.
  await waitFor('the hub listens', async () => {
    await h.db.pool.query(sql.unsafe`SELECT pg_notify(${LIVE_EVENTS_CHANNEL}, ${`${h.acme.tenantId}:d:1`})`);
    await new Promise((r) => setTimeout(r, 20));
    return heard.whole.length > 0;
  });
  const probe = 'environment.deleted {"id":1}';
  await h.db.pool.query(sql.unsafe`DELETE FROM environments WHERE id = ANY(${sql.array([mine ?? 0, theirs ?? 0], 'int8')})`);
  await h.db.pool.query(sql.unsafe`SELECT pg_notify(${LIVE_EVENTS_CHANNEL}, ${`${h.acme.tenantId}:d:987654`})`);
  const deletions = () => heard.whole.filter((e) => e.startsWith('environment.deleted') && e !== probe);
  await waitFor('the unlimited stream hears every deletion', async () => deletions().length === 3);
  t.same(deletions().sort(), [`environment.deleted {"id":${mine}}`, `environment.deleted {"id":${theirs}}`, 'environment.deleted {"id":987654}'].sort());
  t.same(heard.limited, [`environment.deleted {"id":${mine}}`], 'the limited stream hears of its own repository only: not of another, nor of one it cannot tell');
});

t.test("a rollback's dedupe key is the tenant's and environment's, never the client's X-Request-Id", async (t) => {
  const h = await startApiHarness(t);
  const headers = { 'x-request-id': 'chosen-by-the-client' };
  const acme = await h.call('POST', `/api/v1/environments/${h.acme.environmentIds[0]}/rollback`, { token: h.tokens.alice, body: { version: h.acme.shas[0] }, headers });
  t.equal(acme.status, 202);
  // Another organization that sends the same request id (by chance, or having seen it) is not silently dropped.
  const globex = await h.call('POST', `/api/v1/environments/${h.globex.environmentIds[0]}/rollback`, { token: h.tokens.gil, body: { version: h.globex.shas[0] }, headers });
  t.equal(globex.status, 202);
  const again = await h.call('POST', `/api/v1/environments/${h.acme.environmentIds[0]}/rollback`, { token: h.tokens.alice, body: { version: h.acme.shas[0] }, headers });
  t.equal(again.status, 202);
  const rows = await h.db.pool.any(sql.unsafe`SELECT tenant_id, dedupe_key FROM outbox WHERE kind = ${OUTBOX_KINDS.rollbackPullRequest} ORDER BY id`);
  t.same(rows.map((r) => Number(r.tenant_id)), [h.acme.tenantId, h.globex.tenantId, h.acme.tenantId], "every tenant's rollback is queued: none taken for another's");
  for (const r of rows) {
    t.notMatch(String(r.dedupe_key), /chosen-by-the-client/, 'the client does not choose the key');
    t.match(String(r.dedupe_key), new RegExp(`^api-rollback:${r.tenant_id}:\\d+:`), 'it names the tenant and the environment');
  }
});

t.test('seats are checked again when an invitation is accepted; a refusal keeps the invitation for later', async (t) => {
  const h = await startApiHarness(t);
  const invitation = await h.call('POST', '/api/v1/invitations', { token: h.tokens.alice, body: { role: 'viewer' } });
  t.equal(invitation.status, 201, 'the Pro plan has seats to spare when the invitation is made');
  // Then the organization moves to the Free plan (one seat), or others accept first.
  await h.db.pool.query(sql.unsafe`UPDATE tenants SET plan = 'free' WHERE id = ${h.acme.tenantId}`);
  const full = await h.call('POST', '/api/v1/invitations/accept', { token: h.tokens.gil, body: { token: invitation.body.token } });
  t.equal(full.status, 403);
  t.equal(full.body.code, 'seat-limit');
  t.match(full.body.detail, /free plan has 1 seat/);
  t.equal(Number(await h.db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM memberships WHERE tenant_id = ${h.acme.tenantId}`)), 4, 'nobody joined');
  await h.db.pool.query(sql.unsafe`UPDATE tenants SET plan = 'pro' WHERE id = ${h.acme.tenantId}`);
  const joined = await h.call('POST', '/api/v1/invitations/accept', { token: h.tokens.gil, body: { token: invitation.body.token } });
  t.equal(joined.status, 200, 'the invitation was not used up by the refusal');
});

t.test('the reference page may not be framed; the session cookie has one name', async (t) => {
  const h = await startApiHarness(t);
  const page = await h.call('GET', '/api/v1/docs');
  t.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
  t.equal(SESSION_COOKIE, WHARF_COOKIES.session, "the cookie the local router strips is the one the API sets");
});
