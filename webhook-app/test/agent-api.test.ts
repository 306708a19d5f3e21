/**
 * The agent API against a real database: registration tokens (expired, revoked, unknown), credentials (wrong,
 * revoked, rotated), long-polls woken by NOTIFY, reports fenced by document hash and idempotent, one tenant's agent
 * never seeing another's documents, and the bounds (rate limit, body size, batch size).
 */
import { loadSettings, type WorkflowAppSpec } from '@wharf/contracts';
import { documentHash, workflowAppOf } from '@wharf/reconciler';
import { agentDocuments, agents, audit, type DatabasePool, sql } from '@wharf/store';
import { seedEnvironments } from '@wharf/store/testing';
import { createTestDatabase, seedRepository, silentLog } from '@wharf/testkit';
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { buildServer, buildUnits, controlPlaneSettings, createAgentApiUnit, type ControlPlaneUnit } from '../src/index.js';

const spec = (app: string, env: string, v: string, extra: Partial<WorkflowAppSpec> = {}): WorkflowAppSpec => ({
  app,
  environment: env,
  version: { sha: v.padEnd(40, 'a'), digest: `sha256:${v}` },
  files: [{ path: 'app.yaml', content: `# ${v}\nmodules: []\n` }],
  runtime: {},
  replicas: 1,
  env: [],
  ...extra,
});

async function startApi(t: { teardown(fn: () => unknown): void }, db: { url: string; pool: DatabasePool }, env: Record<string, string> = {}, resolveSecret?: (s: { tenantId: number }, r: { name: string; key: string }) => Promise<string | undefined>) {
  const settings = loadSettings(controlPlaneSettings, { WHARF_AGENT_POLL_HOLD: '2', ...env });
  const registry = new Registry();
  const units: ControlPlaneUnit[] = await buildUnits(
    { pool: db.pool, log: silentLog as never, registry, settings, dataDir: '/nonexistent', databaseUrl: db.url },
    { agentApi: createAgentApiUnit({ ...(resolveSecret ? { resolveSecret } : {}), livenessFlushMs: 100 }) },
  );
  const app = await buildServer({ log: silentLog as never, pool: db.pool, registry, version: 'test', units });
  for (const u of units) u.start?.();
  t.teardown(async () => {
    await app.close();
    for (const u of units) await u.stop?.();
  });
  // The LISTEN connection is up once a NOTIFY comes through.
  return app;
}

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

async function register(app: FastifyInstance, token: string, name = 'lab-1') {
  return app.inject({ method: 'POST', url: '/agent/v1/register', payload: { token, name } });
}

async function publish(pool: DatabasePool, env: { id: number; tenantId: number; repositoryId: number; pool: string; app: string; name: string; v: string; generation?: number }) {
  const doc = workflowAppOf({ id: env.id, tenantId: env.tenantId, repositoryId: env.repositoryId, app: env.app, name: env.name, qualifier: env.pool, kind: 'production', generation: env.generation ?? 1, digest: `sha256:${env.v}`, spec: spec(env.app, env.name, env.v) });
  return agentDocuments.publishDocument(pool, {
    tenantId: env.tenantId,
    pool: env.pool,
    environmentId: env.id,
    generation: env.generation ?? 1,
    document: doc,
    hash: documentHash(doc),
    placement: { staleAfterMs: 120_000, reassignAfterMs: null },
  });
}

t.test('registration tokens: exchanged for a credential; expired, revoked and unknown tokens are refused', async (t) => {
  const db = await createTestDatabase(t);
  const app = await startApi(t, db);
  const { tenantId } = await seedRepository(db.pool);
  const { token, row } = await agents.createRegistrationToken(db.pool, { tenantId }, { pool: 'lab', ttlMs: 3_600_000, createdBy: 'cli:test' });
  t.match(token, /^wharf_reg_[A-Za-z0-9_-]{43}$/);
  const stored = await db.pool.oneFirst(sql.unsafe`SELECT token_hash FROM agent_registration_tokens WHERE id = ${row.id}`);
  t.not(stored, token, 'only the hash is stored');
  t.notMatch(JSON.stringify(await db.pool.any(sql.unsafe`SELECT * FROM agent_registration_tokens`)), token.slice(10));

  const first = await register(app, token, 'lab-1');
  t.equal(first.statusCode, 201);
  const a1 = first.json() as { agentId: number; pool: string; credential: string };
  t.match(a1, { pool: 'lab', credential: /^wharf_agent_/ });
  t.equal((await register(app, token, 'lab-2')).statusCode, 201, 'multi-use until it expires: a second agent');
  t.same((await agents.listAgents(db.pool, { tenantId })).map((a) => a.name), ['lab-1', 'lab-2']);
  t.match((await audit.listAudit(db.pool, { tenantId })).map((a) => a.action), ['agent-register', 'agent-register']);

  await db.pool.query(sql.unsafe`UPDATE agent_registration_tokens SET expires_at = now() - interval '1 second' WHERE id = ${row.id}`);
  const expired = await register(app, token, 'late');
  t.equal(expired.statusCode, 401);
  t.same(expired.json(), { error: 'registration token expired' });
  const other = await agents.createRegistrationToken(db.pool, { tenantId }, { pool: 'lab', ttlMs: 60_000, createdBy: 'cli:test' });
  t.ok(await agents.revokeRegistrationToken(db.pool, { tenantId }, other.row.id));
  t.same((await register(app, other.token)).json(), { error: 'registration token revoked' });
  t.same((await register(app, `wharf_reg_${'x'.repeat(43)}`)).json(), { error: 'unknown registration token' });
  t.equal((await app.inject({ method: 'POST', url: '/agent/v1/register', payload: { token, name: '../../etc' } })).statusCode, 400, 'a name is a plain name');
  t.equal((await agents.listAgents(db.pool, { tenantId })).length, 2, 'no agent was made by a refused token');
});

t.test("the plan's agent limit: a Free organization registers one agent; the next is refused with what to do, until one is revoked", async (t) => {
  const db = await createTestDatabase(t);
  const app = await startApi(t, db);
  const { tenantId } = await seedRepository(db.pool, { plan: 'free' });
  const { token } = await agents.createRegistrationToken(db.pool, { tenantId }, { pool: 'lab', ttlMs: 3_600_000, createdBy: 'cli:test' });
  const first = await register(app, token, 'lab-1');
  t.equal(first.statusCode, 201, 'the first agent of a Free organization registers');
  const second = await register(app, token, 'lab-2');
  t.equal(second.statusCode, 403);
  t.same(second.json(), { error: "the organization's plan (free) allows 1 agent; revoke one (wharf agent revoke) or upgrade the plan" });
  t.same((await agents.listAgents(db.pool, { tenantId })).map((a) => a.name), ['lab-1'], 'no agent was made over the limit');
  t.match((await audit.listAudit(db.pool, { tenantId })).map((a) => a.action), ['agent-register'], 'only the registration that happened is audited');
  t.ok(await agents.revokeAgent(db.pool, { tenantId }, (first.json() as { agentId: number }).agentId));
  t.equal((await register(app, token, 'lab-2')).statusCode, 201, 'a revoked agent frees its slot');
  await db.pool.query(sql.unsafe`UPDATE tenants SET plan = 'pro' WHERE id = ${tenantId}`);
  t.equal((await register(app, token, 'lab-3')).statusCode, 201, 'an upgrade lifts the limit at once');
});

t.test('credentials: wrong, missing and revoked ones get 401 and nothing else; rotation keeps two until the new one is used', async (t) => {
  const db = await createTestDatabase(t);
  const app = await startApi(t, db);
  const { tenantId } = await seedRepository(db.pool);
  const { token } = await agents.createRegistrationToken(db.pool, { tenantId }, { pool: 'lab', ttlMs: 60_000, createdBy: 'cli:test' });
  const a = (await register(app, token)).json() as { agentId: number; credential: string };

  const refused = async (headers: Record<string, string>) => {
    const r = await app.inject({ method: 'GET', url: '/agent/v1/desired?wait=0', headers });
    return { status: r.statusCode, body: r.body };
  };
  const nothingElse = { status: 401, body: '{"error":"unauthorized"}' };
  t.same(await refused({}), nothingElse, 'no credential');
  t.same(await refused(bearer(`wharf_agent_${'A'.repeat(43)}`)), nothingElse, 'an unknown credential');
  t.same(await refused({ authorization: `Basic ${Buffer.from('x:y').toString('base64')}` }), nothingElse, 'another scheme');
  t.same(await refused(bearer(a.credential.slice(0, -1))), nothingElse, 'a credential one character short');
  t.equal((await app.inject({ method: 'GET', url: '/agent/v1/desired?wait=0', headers: bearer(a.credential) })).statusCode, 200);

  const rotated = await app.inject({ method: 'POST', url: '/agent/v1/credentials', headers: bearer(a.credential), payload: {} });
  const next = (rotated.json() as { credential: string }).credential;
  t.not(next, a.credential);
  t.equal((await app.inject({ method: 'GET', url: '/agent/v1/desired?wait=0', headers: bearer(a.credential) })).statusCode, 200, 'both work while the new one is unused');
  t.equal((await agents.listAgents(db.pool, { tenantId }))[0]!.active_credentials, 2);
  t.equal((await app.inject({ method: 'GET', url: '/agent/v1/desired?wait=0', headers: bearer(next) })).statusCode, 200, 'the new one works');
  await new Promise((r) => setTimeout(r, 200));
  t.same(await refused(bearer(a.credential)), nothingElse, 'the old one is retired once the new one was used (even while cached)');
  t.equal((await agents.listAgents(db.pool, { tenantId }))[0]!.active_credentials, 1);

  // Revocation is immediate, also for a poll that is being held.
  const { hash } = (await app.inject({ method: 'GET', url: '/agent/v1/desired?wait=0', headers: bearer(next) })).json() as { hash: string };
  const held = app.inject({ method: 'GET', url: `/agent/v1/desired?since=${hash}`, headers: bearer(next) });
  await new Promise((r) => setTimeout(r, 100));
  t.ok(await agents.revokeAgent(db.pool, { tenantId }, a.agentId));
  t.same(await held.then((r) => ({ status: r.statusCode, body: r.body })), nothingElse, 'the held poll ends with 401');
  t.same(await refused(bearer(next)), nothingElse);
  t.same((await app.inject({ method: 'POST', url: '/agent/v1/status', headers: bearer(next), payload: { reports: [] } })).body, nothingElse.body);
});

t.test('desired documents: long-poll woken by a change; reports fenced by hash and idempotent; tenants and pools apart', async (t) => {
  const db = await createTestDatabase(t);
  const app = await startApi(t, db);
  const mine = await seedRepository(db.pool, { tenant: 'mine' });
  const theirs = await seedRepository(db.pool, { tenant: 'theirs' });
  const tok = async (tenantId: number, pool: string) => (await agents.createRegistrationToken(db.pool, { tenantId }, { pool, ttlMs: 60_000, createdBy: 't' })).token;
  const a = (await register(app, await tok(mine.tenantId, 'lab'))).json() as { agentId: number; credential: string };
  const other = (await register(app, await tok(theirs.tenantId, 'lab'))).json() as { agentId: number; credential: string };
  const edge = (await register(app, await tok(mine.tenantId, 'edge'))).json() as { agentId: number; credential: string };
  const [shopId, theirId, edgeId] = await seedEnvironments(db.pool, [
    { tenantId: mine.tenantId, repositoryId: mine.repositoryId, app: 'shop', name: 'production', target: 'agent:lab', digest: 'sha256:v1', spec: spec('shop', 'production', 'v1') },
    { tenantId: theirs.tenantId, repositoryId: theirs.repositoryId, app: 'shop', name: 'production', target: 'agent:lab', digest: 'sha256:v1', spec: spec('shop', 'production', 'v1') },
    { tenantId: mine.tenantId, repositoryId: mine.repositoryId, app: 'edge', name: 'production', target: 'agent:edge', digest: 'sha256:v1', spec: spec('edge', 'production', 'v1') },
  ]);
  const p1 = await publish(db.pool, { id: shopId!, tenantId: mine.tenantId, repositoryId: mine.repositoryId, pool: 'lab', app: 'shop', name: 'production', v: 'v1' });
  t.match(p1, { agentId: a.agentId, changed: true }, 'placed on the one live agent of the tenant and pool');
  t.match(await publish(db.pool, { id: theirId!, tenantId: theirs.tenantId, repositoryId: theirs.repositoryId, pool: 'lab', app: 'shop', name: 'production', v: 'v1' }), { agentId: other.agentId });
  t.match(await publish(db.pool, { id: edgeId!, tenantId: mine.tenantId, repositoryId: mine.repositoryId, pool: 'edge', app: 'edge', name: 'production', v: 'v1' }), { agentId: edge.agentId });
  t.match(await publish(db.pool, { id: shopId!, tenantId: mine.tenantId, repositoryId: mine.repositoryId, pool: 'lab', app: 'shop', name: 'production', v: 'v1' }), { changed: false }, 'the same document again writes nothing');

  const fetchDesired = async (credential: string, since = '') =>
    (await app.inject({ method: 'GET', url: `/agent/v1/desired?since=${since}`, headers: bearer(credential) })).json() as {
      hash: string;
      changed: boolean;
      documents: { environmentId: number; hash: string; workflowApp?: { spec: WorkflowAppSpec } }[];
    };
  const d1 = await fetchDesired(a.credential);
  t.same(d1.documents.map((d) => d.environmentId), [shopId], 'only its own tenant and pool');
  t.equal(d1.documents[0]!.workflowApp!.spec.version.digest, 'sha256:v1');
  t.same((await fetchDesired(other.credential)).documents.map((d) => d.environmentId), [theirId]);

  // Held until the document changes; then answered with the new one.
  const held = fetchDesired(a.credential, d1.hash);
  await new Promise((r) => setTimeout(r, 150));
  await publish(db.pool, { id: shopId!, tenantId: mine.tenantId, repositoryId: mine.repositoryId, pool: 'lab', app: 'shop', name: 'production', v: 'v2', generation: 2 });
  const d2 = await held;
  t.equal(d2.changed, true);
  t.equal(d2.documents[0]!.workflowApp!.spec.version.digest, 'sha256:v2', 'the change woke the held poll');
  t.not(d2.hash, d1.hash);
  const idle = await fetchDesired(a.credential, d2.hash);
  t.same({ changed: idle.changed, documents: idle.documents }, { changed: false, documents: [] }, 'held for the hold time, then answered unchanged');

  const report = (environmentId: number, hash: string, extra: object = {}) => ({ environmentId, documentHash: hash, exists: true, healthy: true, digest: 'sha256:v2', url: 'http://10.0.0.5:8080/', ...extra });
  const post = async (credential: string, reports: object[]) => app.inject({ method: 'POST', url: '/agent/v1/status', headers: bearer(credential), payload: { reports } });
  const h2 = d2.documents[0]!.hash;
  t.same((await post(a.credential, [report(shopId!, h2)])).json(), { results: [{ environmentId: shopId, result: 'recorded' }] });
  t.same((await post(a.credential, [report(shopId!, h2)])).json(), { results: [{ environmentId: shopId, result: 'unchanged' }] }, 'the same report twice changes nothing');
  t.same((await post(a.credential, [report(shopId!, d1.documents[0]!.hash)])).json(), { results: [{ environmentId: shopId, result: 'stale' }] }, 'a report for an older document is stale');
  t.same((await post(a.credential, [report(theirId!, h2)])).json(), { results: [{ environmentId: theirId, result: 'stale' }] }, "another tenant's environment: nothing recorded");
  t.same((await post(edge.credential, [report(shopId!, h2, { healthy: false })])).json(), { results: [{ environmentId: shopId, result: 'stale' }] }, "another pool's agent cannot report on it");
  const stored = await agentDocuments.readDocument(db.pool, { tenantId: mine.tenantId }, shopId!);
  t.match(stored, { reported_hash: h2, report: { healthy: true, url: 'http://10.0.0.5:8080/' } });
  t.equal((await agentDocuments.readDocument(db.pool, { tenantId: theirs.tenantId }, theirId!))?.report, null);

  // Bounds: malformed reports, too many, too large.
  t.equal((await post(a.credential, [{ environmentId: shopId, documentHash: h2 }])).statusCode, 400);
  t.equal((await post(a.credential, Array.from({ length: 101 }, () => report(shopId!, h2)))).statusCode, 400);
  for (const url of ['javascript:alert(1)', 'data:text/html,<script>1</script>', 'file:///etc/passwd', 'http://a b/']) {
    t.equal((await post(a.credential, [report(shopId!, h2, { url })])).statusCode, 400, `a reported URL is http(s): ${url} is refused`);
  }
  const nul = await post(a.credential, [report(shopId!, h2, { healthy: false, error: { reason: 'ApplyFailed', message: 'bad\u0000byte', retry: 'backoff' } })]);
  t.equal(nul.statusCode, 400, 'a NUL character (Postgres cannot store it) is refused for this agent alone');
  t.match(await agentDocuments.readDocument(db.pool, { tenantId: mine.tenantId }, shopId!), { report: { url: 'http://10.0.0.5:8080/' } }, 'and nothing of it recorded');
  const big = await app.inject({ method: 'POST', url: '/agent/v1/status', headers: { ...bearer(a.credential), 'content-type': 'application/json' }, payload: `{"reports":[],"x":"${'y'.repeat(1_100_000)}"}` });
  t.equal(big.statusCode, 413);
});

t.test('secrets reach an agent only by reference, resolved when it fetches; a missing one is named', async (t) => {
  const db = await createTestDatabase(t);
  const vault = new Map([['shop/api-key', 's3cr3t-value']]);
  const app = await startApi(t, db, {}, async (_scope, ref) => vault.get(`${ref.name}/${ref.key}`));
  const { tenantId, repositoryId } = await seedRepository(db.pool);
  const a = (await register(app, (await agents.createRegistrationToken(db.pool, { tenantId }, { pool: 'lab', ttlMs: 60_000, createdBy: 't' })).token)).json() as { credential: string };
  const withSecrets = spec('shop', 'production', 'v1', { env: [{ name: 'GREETING', value: 'hi' }, { name: 'API_KEY', secretRef: { name: 'shop', key: 'api-key' } }, { name: 'DB', secretRef: { name: 'shop', key: 'db' } }] });
  const [id] = await seedEnvironments(db.pool, [{ tenantId, repositoryId, app: 'shop', name: 'production', target: 'agent:lab', digest: 'sha256:v1', spec: withSecrets }]);
  const doc = workflowAppOf({ id: id!, tenantId, repositoryId, app: 'shop', name: 'production', qualifier: 'lab', kind: 'production', generation: 1, digest: 'sha256:v1', spec: withSecrets });
  await agentDocuments.publishDocument(db.pool, { tenantId, pool: 'lab', environmentId: id!, generation: 1, document: doc, hash: documentHash(doc), placement: { staleAfterMs: 60_000, reassignAfterMs: null } });
  t.notMatch(JSON.stringify(await db.pool.any(sql.unsafe`SELECT * FROM agent_documents`)), /s3cr3t/, 'no secret value in the stored document');
  const d = (await app.inject({ method: 'GET', url: '/agent/v1/desired?wait=0', headers: bearer(a.credential) })).json() as { documents: { environment: Record<string, string>; unresolved?: string[] }[] };
  t.same(d.documents[0]!.environment, { GREETING: 'hi', API_KEY: 's3cr3t-value' });
  t.same(d.documents[0]!.unresolved, ['DB']);
});

t.test('every agent is rate limited on its own; unknown callers by address', async (t) => {
  const db = await createTestDatabase(t);
  const app = await startApi(t, db, { WHARF_AGENT_RATE_LIMIT: '10' });
  const { tenantId } = await seedRepository(db.pool);
  const { token } = await agents.createRegistrationToken(db.pool, { tenantId }, { pool: 'lab', ttlMs: 60_000, createdBy: 't' });
  const a = (await register(app, token, 'a')).json() as { credential: string };
  const b = (await register(app, token, 'b')).json() as { credential: string };
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push((await app.inject({ method: 'GET', url: '/agent/v1/desired?wait=0', headers: bearer(a.credential) })).statusCode);
  t.same(statuses.slice(0, 10), Array(10).fill(200), 'ten a minute are allowed');
  t.equal(statuses[11], 429, 'past ten a minute, agent a is refused');
  t.equal((await app.inject({ method: 'GET', url: '/agent/v1/desired?wait=0', headers: bearer(b.credential) })).statusCode, 200, 'agent b is not');
});
