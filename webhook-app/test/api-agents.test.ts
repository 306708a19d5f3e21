/**
 * Pull agents through the REST API on real Postgres: registration tokens (created with the secret once, listed
 * without it, revoked so that registration fails), agents (pool, liveness, last seen, placed environments, revoked so
 * that their credential fails), the permission matrix, another organization's ids (404, as for ids that do not
 * exist, nothing changed), bad input, pages and the audit log. Every answer is checked against its OpenAPI schema
 * by the harness.
 */
import type { WorkflowAppSpec } from '@wharf/contracts';
import { documentHash, workflowAppOf } from '@wharf/reconciler';
import { agentDocuments, agents, sql } from '@wharf/store';
import { silentLog, waitFor } from '@wharf/testkit';
import t from 'tap';
import { createLiveHub } from '../src/api/live/live-hub.js';
import { type ApiHarness, type Org, startApiHarness } from './helpers/api-harness.js';

const spec = (app: string, env: string): WorkflowAppSpec => ({
  app,
  environment: env,
  version: { sha: 'c'.repeat(40), digest: 'sha256:c' },
  files: [{ path: 'app.yaml', content: 'modules: []\n' }],
  runtime: {},
  replicas: 1,
  env: [],
});

/** An agent registered the way `wharf agent register` does it (the agent API's store call), with a token made through the REST API. */
async function registeredAgent(h: ApiHarness, token: string, org: 'acme' | 'globex', pool: string, name: string) {
  const made = await h.call('POST', '/api/v1/agent-tokens', { token, body: { pool } });
  if (made.status !== 201) throw new Error(`token: ${made.status} ${JSON.stringify(made.body)}`);
  const registered = await agents.registerAgentWithToken(h.db.pool, { token: made.body.token, name });
  if (!registered.ok) throw new Error(`register: ${registered.problem}`);
  return { tokenId: made.body.id as number, agentId: registered.agent.agentId, credential: registered.credential, org };
}

/** Publishes the document of one of the org's environments as the agent target does; it is placed on the pool's live agent. */
async function place(h: ApiHarness, org: Org, environmentId: number, pool: string) {
  const env = await h.db.pool.one(sql.unsafe`SELECT app, name FROM environments WHERE id = ${environmentId}`);
  const document = workflowAppOf({
    id: environmentId,
    tenantId: org.tenantId,
    repositoryId: org.repositoryId,
    app: String(env.app),
    name: String(env.name),
    qualifier: pool,
    kind: 'production',
    generation: 1,
    digest: 'sha256:c',
    spec: spec(String(env.app), String(env.name)),
  });
  return agentDocuments.publishDocument(h.db.pool, {
    tenantId: org.tenantId,
    pool,
    environmentId,
    generation: 1,
    document,
    hash: documentHash(document),
    placement: { staleAfterMs: 120_000, reassignAfterMs: null },
  });
}

t.test('registration tokens: the secret once, listed without it, usable by agents until revoked; audited', async (t) => {
  const h = await startApiHarness(t);
  const made = await h.call('POST', '/api/v1/agent-tokens', { token: h.tokens.alice, body: { pool: 'home-lab', ttlSeconds: 3600 } });
  t.equal(made.status, 201);
  t.match(made.body, { pool: 'home-lab', state: 'active', createdBy: 'user:alice', uses: 0, revokedAt: null });
  t.match(made.body.token, /^wharf_reg_[A-Za-z0-9_-]{43}$/);
  const lifetime = Date.parse(made.body.expiresAt) - Date.parse(made.body.createdAt);
  t.ok(lifetime > 3_590_000 && lifetime <= 3_600_000, 'lives ttlSeconds');
  const stored = await h.db.pool.oneFirst(sql.unsafe`SELECT token_hash FROM agent_registration_tokens WHERE id = ${made.body.id}`);
  t.not(stored, made.body.token, 'only a hash is stored');
  t.notMatch(JSON.stringify(await h.db.pool.any(sql.unsafe`SELECT * FROM agent_registration_tokens`)), made.body.token);

  const defaults = await h.call('POST', '/api/v1/agent-tokens', { token: h.tokens.ada, body: { pool: 'edge' } });
  t.equal(defaults.status, 201, 'an admin may make one');
  t.equal(Date.parse(defaults.body.expiresAt) - Date.parse(defaults.body.createdAt), 86_400_000, 'default: 24 h');

  // Multi-use: two agents register with the same token.
  for (const name of ['lab-1', 'lab-2']) t.match(await agents.registerAgentWithToken(h.db.pool, { token: made.body.token, name }), { ok: true });
  const listed = await h.call('GET', '/api/v1/agent-tokens', { token: h.tokens.vic });
  t.equal(listed.status, 200, 'a viewer lists them');
  t.same(listed.body.items.map((i: { id: number }) => i.id), [defaults.body.id, made.body.id], 'newest first');
  t.match(listed.body.items[1], { uses: 2, state: 'active' });
  t.notOk('token' in listed.body.items[1], 'never the secret again');
  t.notMatch(listed.text, made.body.token);

  t.equal((await h.call('DELETE', `/api/v1/agent-tokens/${made.body.id}`, { token: h.tokens.alice })).status, 204);
  t.match(await agents.registerAgentWithToken(h.db.pool, { token: made.body.token, name: 'lab-3' }), { ok: false, problem: 'revoked' }, 'a revoked token registers nobody');
  t.equal((await h.call('DELETE', `/api/v1/agent-tokens/${made.body.id}`, { token: h.tokens.alice })).status, 404, 'revoked already: no active token of that id');
  const after = await h.call('GET', '/api/v1/agent-tokens', { token: h.tokens.alice });
  t.match(after.body.items[1], { state: 'revoked' });
  t.equal((await agents.listAgents(h.db.pool, { tenantId: h.acme.tenantId })).length, 2, 'agents registered with it keep working');

  await h.db.pool.query(sql.unsafe`UPDATE agent_registration_tokens SET expires_at = now() - interval '1 second' WHERE id = ${defaults.body.id}`);
  t.match((await h.call('GET', '/api/v1/agent-tokens', { token: h.tokens.alice })).body.items[0], { id: defaults.body.id, state: 'expired' });

  const entries = await h.call('GET', '/api/v1/audit?limit=100', { token: h.tokens.alice });
  const mine = entries.body.items.filter((e: { action: string }) => e.action.startsWith('agent-token'));
  t.match(
    mine.map((e: { action: string; subject: string; actor: string }) => [e.action, e.subject, e.actor]),
    [
      ['agent-token-revoke', `agent-token:${made.body.id}`, 'user:alice'],
      ['agent-token-create', `agent-token:${defaults.body.id}`, 'user:ada'],
      ['agent-token-create', `agent-token:${made.body.id}`, 'user:alice'],
    ],
  );
  t.ok(mine.every((e: { requestId: string | null }) => e.requestId), 'each with its request id');
  t.notMatch(JSON.stringify(entries.body), /wharf_reg_/, 'no token in the audit log');
});

t.test('agents: pool, liveness, last seen and placed environments; revoked at once', async (t) => {
  const h = await startApiHarness(t);
  const a = await registeredAgent(h, h.tokens.alice, 'acme', 'lab', 'lab-1');
  const b = await registeredAgent(h, h.tokens.alice, 'acme', 'edge', 'edge-1');
  const [shop, admin] = h.acme.environmentIds;
  t.match(await place(h, h.acme, shop!, 'lab'), { agentId: a.agentId });
  t.match(await place(h, h.acme, admin!, 'edge'), { agentId: b.agentId });
  await h.db.pool.query(sql.unsafe`UPDATE agents SET last_seen_at = now() - interval '3 minutes' WHERE id = ${b.agentId}`);

  const listed = await h.call('GET', '/api/v1/agents', { token: h.tokens.vic });
  t.equal(listed.status, 200, 'a viewer lists agents');
  const [edge, lab] = listed.body.items;
  t.match(lab, { id: a.agentId, name: 'lab-1', pool: 'lab', state: 'Connected', revokedAt: null, activeCredentials: 1, environments: [{ id: shop, app: 'shop', name: 'production', applied: false }] });
  t.ok(Date.now() - Date.parse(lab.lastSeenAt) < 60_000, 'last seen: registration');
  t.match(edge, { id: b.agentId, state: 'Stale', environments: [{ id: admin }] }, 'unseen for 3 min: Stale (WHARF_AGENT_STALE_AFTER 120 s)');
  t.notMatch(listed.text, /wharf_agent_/, 'no credential');
  t.same((await h.call('GET', '/api/v1/agents?pool=edge', { token: h.tokens.vic })).body.items.map((i: { id: number }) => i.id), [b.agentId]);

  // The agent reports the document it was given: applied.
  const [doc] = (await agentDocuments.documentsForAgents(h.db.pool, [{ agentId: a.agentId, tenantId: h.acme.tenantId, pool: 'lab', name: 'lab-1', credentialId: 0 }]))[0]!.documents;
  await agentDocuments.recordReportsOfAgents(h.db.pool, [
    { agent: { agentId: a.agentId, tenantId: h.acme.tenantId, pool: 'lab', name: 'lab-1', credentialId: 0 }, report: { environmentId: shop!, documentHash: doc!.document_hash, exists: true, healthy: true, digest: 'sha256:c', url: 'http://10.0.0.9:8080/' } },
  ]);
  t.match((await h.call('GET', `/api/v1/agents/${a.agentId}`, { token: h.tokens.vic })).body, { environments: [{ id: shop, applied: true }] });

  // Only agents:manage revokes; then the credential stops working and the environment is due for another agent.
  const denied = await h.call('DELETE', `/api/v1/agents/${a.agentId}`, { token: h.tokens.dan });
  t.equal(denied.status, 403);
  t.equal(denied.body.permission, 'agents:manage');
  t.ok(await agents.authenticateAgentByCredential(h.db.pool, a.credential), 'still valid');
  t.equal((await h.call('DELETE', `/api/v1/agents/${a.agentId}`, { token: h.tokens.ada })).status, 204);
  t.equal(await agents.authenticateAgentByCredential(h.db.pool, a.credential), null, 'revoked at once');
  t.equal((await h.call('DELETE', `/api/v1/agents/${a.agentId}`, { token: h.tokens.ada })).status, 404, 'no active agent of that id');
  t.same((await h.call('GET', '/api/v1/agents', { token: h.tokens.vic })).body.items.map((i: { id: number }) => i.id), [b.agentId], 'revoked agents are not listed by default');
  const all = await h.call('GET', '/api/v1/agents?revoked=true', { token: h.tokens.vic });
  t.match(all.body.items[1], { id: a.agentId, state: 'Revoked', activeCredentials: 0 });
  t.ok(all.body.items[1].revokedAt);
  const audit = (await h.call('GET', '/api/v1/audit?action=agent-revoke', { token: h.tokens.alice })).body.items;
  t.match(audit, [{ action: 'agent-revoke', subject: `agent:${a.agentId}`, actor: 'user:ada' }]);
});

t.test('permissions from the matrix: viewers and deployers read; admins, owners and admin keys manage; read keys do not', async (t) => {
  const h = await startApiHarness(t);
  for (const who of ['vic', 'dan'] as const) {
    t.equal((await h.call('GET', '/api/v1/agents', { token: h.tokens[who] })).status, 200, `${who} reads agents`);
    t.equal((await h.call('GET', '/api/v1/agent-tokens', { token: h.tokens[who] })).status, 200, `${who} reads tokens`);
    const denied = await h.call('POST', '/api/v1/agent-tokens', { token: h.tokens[who], body: { pool: 'lab' } });
    t.equal(denied.status, 403, `${who} cannot make a token`);
    t.equal(denied.body.permission, 'agents:manage');
  }
  const readKey = await h.key('acme', { name: 'reader', scopes: ['read'] });
  t.equal((await h.call('GET', '/api/v1/agents', { token: readKey.key })).status, 200);
  t.equal((await h.call('POST', '/api/v1/agent-tokens', { token: readKey.key, body: { pool: 'lab' } })).body.permission, 'agents:manage');
  const adminKey = await h.key('acme', { name: 'ops', scopes: ['admin'] });
  const made = await h.call('POST', '/api/v1/agent-tokens', { token: adminKey.key, body: { pool: 'lab' } });
  t.equal(made.status, 201, 'an admin key makes tokens (CI installing agents)');
  t.match(made.body.createdBy, /^key:wharf_/);
  t.equal((await h.call('GET', '/api/v1/agents')).status, 401, 'no credentials: 401');
  // A key limited to repositories reaches no agent: an agent serves every repository of its pool.
  const limited = await h.key('acme', { name: 'one repo', scopes: ['admin'], repositoryIds: [h.acme.repositoryId] });
  for (const [method, url, body] of [['GET', '/api/v1/agents', undefined], ['GET', '/api/v1/agent-tokens', undefined], ['POST', '/api/v1/agent-tokens', { pool: 'lab' }]] as const) {
    const refused = await h.call(method, url, { token: limited.key, ...(body ? { body } : {}) });
    t.equal(refused.status, 403, `${method} ${url} with a key limited to repositories`);
    t.match(refused.body.permission, /^agents:/);
  }
  // An Idempotency-Key replays the answer without the token (shown once, never stored).
  const first = await h.call('POST', '/api/v1/agent-tokens', { token: adminKey.key, body: { pool: 'edge' }, headers: { 'idempotency-key': 'install-edge-1' } });
  const replay = await h.call('POST', '/api/v1/agent-tokens', { token: adminKey.key, body: { pool: 'edge' }, headers: { 'idempotency-key': 'install-edge-1' } });
  t.equal(replay.status, 201);
  t.equal(replay.body.id, first.body.id, 'the same token, not a second one');
  t.notOk('token' in replay.body, 'the replay has no secret');
  t.match(replay.body.secretShownOnce, /revoke the registration token and create another/);
  t.notMatch(JSON.stringify(await h.db.pool.any(sql.unsafe`SELECT body FROM api_idempotency`)), first.body.token, 'the token is not kept for replays');
});

t.test("another organization's agents and tokens: 404 as for ids that do not exist, never listed, never changed", async (t) => {
  const h = await startApiHarness(t);
  const theirs = await registeredAgent(h, h.tokens.gil, 'globex', 'lab', 'their-lab');
  const mine = await registeredAgent(h, h.tokens.alice, 'acme', 'lab', 'my-lab');
  const acmeKey = await h.key('acme', { name: 'admin', scopes: ['admin'] });
  const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined });
  const requests: [string, string][] = [
    ['GET', '/api/v1/agents/{id}'],
    ['DELETE', '/api/v1/agents/{id}'],
    ['DELETE', '/api/v1/agent-tokens/{tokenId}'],
  ];
  for (const credential of [h.tokens.alice, acmeKey.key]) {
    for (const [method, path] of requests) {
      const foreign = await h.call(method as 'GET', path.replace('{id}', String(theirs.agentId)).replace('{tokenId}', String(theirs.tokenId)), { token: credential });
      const unknown = await h.call(method as 'GET', path.replace('{id}', '987654321').replace('{tokenId}', '987654321'), { token: credential });
      t.equal(foreign.status, 404, `${method} ${path} with globex's id`);
      t.equal(foreign.body.code, 'not-found');
      t.same(strip(foreign.body), strip(unknown.body), `${method} ${path}: the same answer as for an id that does not exist`);
    }
  }
  // Globex's agent and token are as they were.
  t.ok(await agents.authenticateAgentByCredential(h.db.pool, theirs.credential), "globex's agent still works");
  const theirTokens = await h.call('GET', '/api/v1/agent-tokens', { token: h.tokens.gil });
  t.match(theirTokens.body.items, [{ id: theirs.tokenId, state: 'active' }]);
  // Lists of acme say nothing of globex's.
  const acmeAgentList = await h.call('GET', '/api/v1/agents?revoked=true', { token: h.tokens.alice });
  t.same(acmeAgentList.body.items.map((i: { id: number }) => i.id), [mine.agentId], "acme's agents only");
  t.notMatch(acmeAgentList.text, /their-lab/);
  const acmeTokenList = await h.call('GET', '/api/v1/agent-tokens', { token: h.tokens.alice });
  t.same(acmeTokenList.body.items.map((i: { id: number }) => i.id), [mine.tokenId], "acme's tokens only");
  t.same((await h.call('GET', '/api/v1/agents', { token: h.tokens.gil })).body.items.map((i: { name: string }) => i.name), ['their-lab']);
  // A globex environment placed on globex's agent never shows under acme's agent, even with the same pool name.
  await place(h, h.globex, h.globex.environmentIds[0]!, 'lab');
  const acmeAgents = await h.call('GET', '/api/v1/agents', { token: h.tokens.alice });
  t.match(acmeAgents.body.items, [{ id: mine.agentId, environments: [] }]);
  // A globex owner cannot act on acme's with the acme header either.
  const wrongOrg = await h.call('GET', '/api/v1/agents', { token: h.tokens.gil, headers: { 'wharf-organization': 'acme' } });
  t.equal(wrongOrg.status, 403);
});

t.test('bad input names the field; pages walk every token once', async (t) => {
  const h = await startApiHarness(t);
  const bad = async (body: unknown) => h.call('POST', '/api/v1/agent-tokens', { token: h.tokens.alice, body });
  const upper = await bad({ pool: 'Home_Lab' });
  t.equal(upper.status, 400);
  t.equal(upper.body.code, 'validation-failed');
  t.match(upper.body.errors, [{ field: '/pool' }]);
  t.match((await bad({})).body.errors, [{ field: '/pool' }], 'pool is required');
  t.match((await bad({ pool: 'x'.repeat(64) })).body.errors, [{ field: '/pool' }], 'pool names are bounded');
  t.match((await bad({ pool: 'lab', ttlSeconds: 5 })).body.errors, [{ field: '/ttlSeconds' }], 'at least a minute');
  t.match((await bad({ pool: 'lab', ttlSeconds: 31 * 86_400 })).body.errors, [{ field: '/ttlSeconds' }], 'at most 30 days');
  t.match((await bad({ pool: 'lab', agents: 5 })).body.errors, [{ field: '/agents' }], 'unknown fields are refused');
  t.equal((await h.call('GET', '/api/v1/agents/abc', { token: h.tokens.alice })).body.code, 'not-found', 'an id that is not a number is no agent');
  t.equal(Number(await h.db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM agent_registration_tokens`)), 0, 'nothing made by bad requests');

  const ids: number[] = [];
  for (let i = 0; i < 5; i++) ids.push((await bad({ pool: `pool-${i}` })).body.id);
  const seen: number[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 10; i++) {
    const page = await h.call('GET', `/api/v1/agent-tokens?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: h.tokens.alice });
    seen.push(...page.body.items.map((x: { id: number }) => x.id));
    cursor = page.body.nextCursor;
    if (!cursor) break;
  }
  t.same(seen, [...ids].reverse(), 'each token once, newest first');
  t.equal((await h.call('GET', '/api/v1/agents?cursor=bm9wZQ', { token: h.tokens.alice })).body.code, 'invalid-cursor');
});

t.test('live updates: an agent registering, gaining an environment, going Offline and being revoked reaches its organization only', async (t) => {
  const h = await startApiHarness(t);
  const events: { tenantId: number; event: string; data: { id: number; state: string; environments: { id: number }[] } }[] = [];
  const hub = createLiveHub({ pool: h.db.pool, databaseUrl: h.db.url, log: silentLog, flushMs: 5, agentLiveness: { staleAfterMs: 120_000, offlineAfterMs: 600_000 } });
  t.teardown(() => hub.close());
  for (const org of [h.acme, h.globex]) hub.subscribe({ tenantId: org.tenantId, repositoryIds: null, send: (event, json) => void events.push({ tenantId: org.tenantId, event, data: JSON.parse(json) as never }) });
  const agentEvents = (id: number) => events.filter((e) => e.event === 'agent' && e.data.id === id);
  // The LISTEN connection is up once an event comes through.
  const ready = await registeredAgent(h, h.tokens.alice, 'acme', 'warmup', 'warmup');
  const ping = `${h.acme.tenantId}:a:${ready.agentId}`;
  await waitFor(
    'the live connection is up',
    async () => {
      await h.db.pool.query(sql.unsafe`SELECT pg_notify('wharf_live_events', ${ping})`);
      return agentEvents(ready.agentId).length > 0;
    },
    30_000,
    200,
  );

  const a = await registeredAgent(h, h.tokens.alice, 'acme', 'lab', 'lab-1');
  await waitFor('registered', async () => agentEvents(a.agentId).some((e) => e.data.state === 'Connected'), 10_000);
  await place(h, h.acme, h.acme.environmentIds[0]!, 'lab');
  await waitFor('an environment placed on it', async () => agentEvents(a.agentId).some((e) => e.data.environments.length === 1), 10_000);
  await h.db.pool.query(sql.unsafe`UPDATE agents SET last_seen_at = now() - interval '11 minutes' WHERE id = ${a.agentId}`);
  t.same(await agents.noteOfflineAgents(h.db.pool, 600_000), [a.agentId]);
  await waitFor('found Offline', async () => agentEvents(a.agentId).some((e) => e.data.state === 'Offline'), 10_000);
  t.equal((await h.call('DELETE', `/api/v1/agents/${a.agentId}`, { token: h.tokens.alice })).status, 204);
  await waitFor('revoked', async () => agentEvents(a.agentId).some((e) => e.data.state === 'Revoked'), 10_000);
  t.ok(events.filter((e) => e.event === 'agent').every((e) => e.tenantId === h.acme.tenantId), "globex's streams hear nothing of acme's agents");
  const before = agentEvents(ready.agentId).length;
  await agents.recordAgentsSeen(h.db.pool, new Map([[ready.agentId, new Date()]]));
  // Notifications arrive in commit order: once a later agent's event is here, one for the poll would have been too.
  const marker = await registeredAgent(h, h.tokens.alice, 'acme', 'marker', 'marker');
  await waitFor('a later event', async () => agentEvents(marker.agentId).length > 0, 10_000);
  t.equal(agentEvents(ready.agentId).length, before, 'a poll (last seen) alone sends nothing');
});
