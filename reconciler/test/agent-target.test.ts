/**
 * The agent target with the reconciler and a real database; agents are played by their store calls (polls mark them
 * seen, reports go through recordReports), so each step is driven by hand: placement spreads by load and sticks;
 * reports become conditions, history and outbox; no live agent means Ready=Unknown (AgentOffline), never a failure;
 * an agent that is revoked (or, with the policy, offline too long) loses its environments to a live one; teardown
 * waits for the agent's confirmation.
 */
import { type AgentStatusReport, type WorkflowAppSpec } from '@wharf/contracts';
import { agentDocuments, agents, type DatabasePool, desiredState, environmentViews, EVERY_TENANT, history, sql } from '@wharf/store';
import { seedEnvironments } from '@wharf/store/testing';
import { createTestDatabase, seedRepository, silentLog } from '@wharf/testkit';
import t from 'tap';
import { createReconciler, createTargetRegistry } from '../src/index.js';
import { agentTargetFactory } from '../src/targets/agent/index.js';

const hex = (v: string) => Buffer.from(v).toString('hex').padEnd(40, '0').slice(0, 40);
const spec = (app: string, v: string): WorkflowAppSpec => ({
  app,
  environment: 'production',
  version: { sha: hex(v), digest: `sha256:${v}` },
  files: [{ path: 'app.yaml', content: `# ${v}\n` }],
  runtime: {},
  replicas: 1,
  env: [],
});

async function setup(t: { teardown(fn: () => unknown): void; fail(message: string): unknown }, reassignAfterMs: number | null = null) {
  const db = await createTestDatabase(t);
  const repo = await seedRepository(db.pool);
  const targets = await createTargetRegistry(
    { agent: { pool: db.pool, liveness: { staleAfterMs: 60_000, offlineAfterMs: 120_000 }, reassignAfterMs } },
    { log: silentLog as never },
    { agent: agentTargetFactory },
  );
  const reconciler = createReconciler({ pool: db.pool, targets, log: silentLog as never, progressAfterMs: 0 });
  t.teardown(() => targets.close());
  const agent = async (pool: string, name: string) => {
    const { token } = await agents.createRegistrationToken(db.pool, { tenantId: repo.tenantId }, { pool, ttlMs: 60_000, createdBy: 't' });
    const r = await agents.registerAgentWithToken(db.pool, { token, name });
    if (!r.ok) throw new Error('register');
    return r.agent;
  };
  const env = async (id: number) => (await environmentViews.listEnvironments(db.pool, EVERY_TENANT)).find((e) => e.id === id)!;
  const ready = async (id: number) => (await env(id)).conditions.find((c) => c.type === 'Ready');
  const report = (agentId: agents.AgentIdentity, r: Partial<AgentStatusReport> & { environmentId: number; documentHash: string }) =>
    agentDocuments.recordReports(db.pool, agentId, [{ exists: true, healthy: true, digest: null, url: null, ...r }]);
  const docOf = (id: number) => agentDocuments.readDocument(db.pool, { tenantId: repo.tenantId }, id);
  return { db, repo, reconciler, agent, env, ready, report, docOf };
}

const lastSeen = (pool: DatabasePool, agentId: number, secondsAgo: number) =>
  pool.query(sql.unsafe`UPDATE agents SET last_seen_at = now() - ${secondsAgo} * interval '1 second' WHERE id = ${agentId}`);

t.test('placement spreads by load and sticks; a report finishes the rollout with history and a success status', async (t) => {
  const { db, repo, reconciler, agent, env, ready, report, docOf } = await setup(t);
  const a = await agent('lab', 'a');
  const b = await agent('lab', 'b');
  const ids = await seedEnvironments(
    db.pool,
    ['w', 'x', 'y', 'z'].map((app) => ({ tenantId: repo.tenantId, repositoryId: repo.repositoryId, app, name: 'production', kind: 'production' as const, target: 'agent:lab', digest: 'sha256:v1', spec: spec(app, 'v1') })),
  );
  t.equal(await reconciler.reconcileOnce(), 4);
  const docs = await Promise.all(ids.map(docOf));
  const load = (id: number) => docs.filter((d) => d?.agent_id === id).length;
  t.same([load(a.agentId), load(b.agentId)], [2, 2], 'two each');
  t.match((await env(ids[0]!)).conditions.find((c) => c.type === 'Progressing'), { status: 'True', message: /generation 1 published to agent [ab]/ });

  const first = docs[0]!;
  const owner = first.agent_id === a.agentId ? a : b;
  t.same(await report(owner, { environmentId: ids[0]!, documentHash: first.document_hash, digest: 'sha256:v1', url: 'http://10.0.0.7:8080/' }), [{ environmentId: ids[0], result: 'recorded' }]);
  t.equal(await reconciler.reconcileOnce(), 1, 'the report made the environment due at once');
  t.match(await ready(ids[0]!), { status: 'True', reason: 'RolloutSucceeded' });
  const e = await env(ids[0]!);
  t.equal(e.url, 'http://10.0.0.7:8080/');
  t.equal(e.observed_digest, 'sha256:v1');
  t.match(await history.listHistory(db.pool, { tenantId: repo.tenantId }, ids[0]!), [{ result: 'succeeded', generation: 1 }]);
  const statuses = await db.pool.any(sql.unsafe`SELECT payload->>'state' AS state FROM outbox WHERE environment_id = ${ids[0]!} ORDER BY id`);
  t.same(statuses.map((s) => s.state), ['in_progress', 'success']);
  t.same(await report(owner, { environmentId: ids[0]!, documentHash: first.document_hash, digest: 'sha256:v1', url: 'http://10.0.0.7:8080/' }), [{ environmentId: ids[0], result: 'unchanged' }]);
  t.equal(await reconciler.reconcileOnce(), 0, 'the same report again: nothing to do');

  // A new version goes to the same agent, even though a third agent has nothing.
  await agent('lab', 'c');
  await db.pool.transaction((tx) =>
    desiredState.writeDesired(tx, { tenantId: repo.tenantId, repositoryId: repo.repositoryId, app: 'w', name: 'production', kind: 'production', branch: null, prNumber: null, target: 'agent:lab', driftMode: 'correct', versionId: null, digest: 'sha256:v2', spec: spec('w', 'v2'), conditions: e.conditions }),
  );
  await reconciler.reconcileOnce();
  t.equal((await docOf(ids[0]!))?.agent_id, owner.agentId, 'sticky');
  t.equal((await docOf(ids[0]!))?.generation, 2);
});

t.test("a failure the agent reports: Stalled for a user change, Degraded to retry; success later clears it", async (t) => {
  const { db, repo, reconciler, agent, env, ready, report, docOf } = await setup(t);
  const a = await agent('lab', 'a');
  const [id] = await seedEnvironments(db.pool, [{ tenantId: repo.tenantId, repositoryId: repo.repositoryId, app: 'w', name: 'production', kind: 'production', target: 'agent:lab', digest: 'sha256:v1', spec: spec('w', 'v1') }]);
  await reconciler.reconcileOnce();
  const hash = (await docOf(id!))!.document_hash;
  await report(a, { environmentId: id!, documentHash: hash, exists: false, healthy: false, error: { reason: 'TemplateNotFound', message: 'template 9000 does not exist', retry: 'user-change' } });
  await reconciler.reconcileOnce();
  t.match((await env(id!)).conditions.find((c) => c.type === 'Stalled'), { status: 'True', reason: 'TemplateNotFound', message: /agent a: template 9000 does not exist/ });
  await report(a, { environmentId: id!, documentHash: hash, exists: false, healthy: false, error: { reason: 'ProxmoxUnreachable', message: 'node pve1 595', retry: 'backoff' } });
  await db.pool.query(sql.unsafe`UPDATE environments SET next_attempt_at = now() WHERE id = ${id!}`);
  await reconciler.reconcileOnce();
  const degraded = await env(id!);
  t.match(degraded.conditions.find((c) => c.type === 'Degraded'), { status: 'True', reason: 'ProxmoxUnreachable' });
  t.equal(degraded.failure_count, 1, 'counted, for the backoff');
  await report(a, { environmentId: id!, documentHash: hash, digest: 'sha256:v1', url: 'http://10.0.0.8:8080/' });
  await reconciler.reconcileOnce();
  const fine = await env(id!);
  t.match(await ready(id!), { status: 'True', reason: 'Recovered' });
  t.notOk(fine.conditions.some((c) => (c.type === 'Stalled' || c.type === 'Degraded') && c.status === 'True'), 'nothing stalled or degraded is left');
});

t.test('no live agent: Ready=Unknown (AgentOffline), not a failure; an agent that registers gets the environment', async (t) => {
  const { db, repo, reconciler, agent, env, ready, docOf } = await setup(t);
  const [id] = await seedEnvironments(db.pool, [{ tenantId: repo.tenantId, repositoryId: repo.repositoryId, app: 'w', name: 'production', kind: 'production', target: 'agent:edge', digest: 'sha256:v1', spec: spec('w', 'v1') }]);
  await reconciler.reconcileOnce();
  t.match(await ready(id!), { status: 'Unknown', reason: 'AgentOffline', message: /no agent of pool edge is connected/ });
  t.equal((await env(id!)).failure_count, 0);
  await db.pool.query(sql.unsafe`UPDATE environments SET next_attempt_at = now() WHERE id = ${id!}`);
  await reconciler.reconcileOnce();
  t.match(await ready(id!), { status: 'Unknown', message: /no agent is registered in pool edge: create a registration token \(wharf agent token create --pool edge\)/ });
  const e = await agent('edge', 'e');
  await agents.wakeUnplacedEnvironments(db.pool, { tenantId: repo.tenantId }, 'edge');
  t.equal(await reconciler.reconcileOnce(), 1);
  t.equal((await docOf(id!))?.agent_id, e.agentId, 'placed once an agent of the pool is live');
});

t.test('an offline agent keeps its environments (AgentOffline) unless the policy moves them; a revoked one loses them', async (t) => {
  await t.test('without the reassignment policy', async (t) => {
    const { db, repo, reconciler, agent, ready, docOf } = await setup(t);
    const a = await agent('lab', 'a');
    const [id] = await seedEnvironments(db.pool, [{ tenantId: repo.tenantId, repositoryId: repo.repositoryId, app: 'w', name: 'production', kind: 'production', target: 'agent:lab', digest: 'sha256:v1', spec: spec('w', 'v1') }]);
    await reconciler.reconcileOnce();
    await agent('lab', 'b');
    await lastSeen(db.pool, a.agentId, 3600);
    t.same(await agents.noteOfflineAgents(db.pool, 120_000), [a.agentId], 'the sweep notes it');
    await reconciler.reconcileOnce();
    t.match(await ready(id!), { status: 'Unknown', reason: 'AgentOffline', message: /agent a of pool lab has not been seen for 60 min: what it runs keeps running/ });
    t.equal((await docOf(id!))?.agent_id, a.agentId, 'still its environment');
    t.ok(await agents.revokeAgent(db.pool, { tenantId: repo.tenantId }, a.agentId));
    t.equal(await reconciler.reconcileOnce(), 1, 'revocation made it due');
    t.not((await docOf(id!))?.agent_id, a.agentId, 'moved off the revoked agent');
  });
  await t.test('with WHARF_AGENT_REASSIGN_AFTER', async (t) => {
    const { db, repo, reconciler, agent, docOf } = await setup(t, 600_000);
    const a = await agent('lab', 'a');
    const [id] = await seedEnvironments(db.pool, [{ tenantId: repo.tenantId, repositoryId: repo.repositoryId, app: 'w', name: 'production', kind: 'production', target: 'agent:lab', digest: 'sha256:v1', spec: spec('w', 'v1') }]);
    await reconciler.reconcileOnce();
    const b = await agent('lab', 'b');
    await lastSeen(db.pool, a.agentId, 300);
    await agents.noteOfflineAgents(db.pool, 120_000);
    await reconciler.reconcileOnce();
    t.equal((await docOf(id!))?.agent_id, a.agentId, 'offline for less than the policy: it stays');
    await lastSeen(db.pool, a.agentId, 3600);
    await db.pool.query(sql.unsafe`UPDATE environments SET next_attempt_at = now() WHERE id = ${id!}`);
    await reconciler.reconcileOnce();
    await db.pool.query(sql.unsafe`UPDATE environments SET next_attempt_at = now() WHERE id = ${id!}`);
    await reconciler.reconcileOnce();
    t.equal((await docOf(id!))?.agent_id, b.agentId, 'offline past the policy: moved to the live agent');
  });
});

t.test('teardown waits for the agent to report the guest gone', async (t) => {
  const { db, repo, reconciler, agent, env, report, docOf } = await setup(t);
  const a = await agent('lab', 'a');
  const [id] = await seedEnvironments(db.pool, [{ tenantId: repo.tenantId, repositoryId: repo.repositoryId, app: 'w', name: 'production', kind: 'production', target: 'agent:lab', digest: 'sha256:v1', spec: spec('w', 'v1') }]);
  await reconciler.reconcileOnce();
  await report(a, { environmentId: id!, documentHash: (await docOf(id!))!.document_hash, digest: 'sha256:v1', url: 'http://x/' });
  await reconciler.reconcileOnce();
  t.ok(await desiredState.requestDeletion(db.pool, { tenantId: repo.tenantId }, id!));
  await reconciler.reconcileOnce();
  const doc = (await docOf(id!))!;
  t.equal(doc.deleting, true, 'a teardown document for the agent');
  t.ok(await env(id!), 'the environment stays until the agent confirms');
  await report(a, { environmentId: id!, documentHash: doc.document_hash, deleted: true, exists: false, healthy: false });
  await reconciler.reconcileOnce();
  t.notOk(await env(id!), 'gone once the agent reported the guest gone');
  t.equal(await docOf(id!), null);
});
