/**
 * `wharf agent token create|list|revoke`, `wharf agent list` and `wharf agent revoke` against a remote Wharf (its
 * REST API over HTTP, with an API key) act on the same rows as on this machine's store, print the same, and exit with
 * the same codes; a key without `agents:manage` is refused with the API's reason.
 */
import { loadSettings } from '@wharf/contracts';
import { agents, sql } from '@wharf/store';
import { seedEnvironments } from '@wharf/store/testing';
import { createTestDatabase, seedRepository, silentLog, tempDir } from '@wharf/testkit';
import { apiUnit, buildServer, controlPlaneSettings } from '@wharf/webhook-app';
import { Registry } from 'prom-client';
import t from 'tap';
import { main } from '../src/main.js';

t.test('agent tokens and agents: the same remotely as locally', async (t) => {
  const db = await createTestDatabase(t);
  const dir = await tempDir(t, 'wharf-cli-agent-remote-');
  const settings = loadSettings(controlPlaneSettings, { DATABASE_URL: db.url, WHARF_DATA_DIR: dir, WHARF_API_LOCAL_OWNER: 'true', WHARF_API_PEPPER: 'p'.repeat(40) });
  const unit = await apiUnit({ pool: db.pool, log: silentLog, registry: new Registry(), settings, dataDir: dir, databaseUrl: db.url });
  const server = await buildServer({ log: silentLog, pool: db.pool, registry: new Registry(), version: 'test', units: unit ? [unit] : [] });
  await server.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(async () => {
    await server.close();
    await unit?.stop?.();
  });
  const address = server.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const makeKey = async (scopes: string[]) => {
    const res = await fetch(`${url}/api/v1/keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: scopes.join('+'), scopes }) });
    t.equal(res.status, 201);
    return ((await res.json()) as { key: string }).key;
  };
  const admin = await makeKey(['admin']);
  const reader = await makeKey(['read']);

  const run = async (argv: string[], env: Record<string, string>) => {
    let out = '';
    let err = '';
    const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s), cwd: dir, env: { ...env, HOME: dir }, waitForStop: () => new Promise(() => undefined) });
    return { code, out, err };
  };
  const local = { DATABASE_URL: db.url };
  const remote = { WHARF_URL: url, WHARF_TOKEN: admin };

  const made = await run(['agent', 'token', 'create', '--pool', 'home-lab', '--ttl', '2h'], remote);
  t.equal(made.code, 0, made.err);
  t.match(made.out, /^wharf_reg_\S+\n$/, 'the token on stdout, alone');
  t.match(made.err, /registration token \d+ for pool home-lab, valid until .* It is shown once\./);
  const registered = await agents.registerAgentWithToken(db.pool, { token: made.out.trim(), name: 'lab-1' });
  t.ok(registered.ok, "the remote's token registers an agent");
  const actor = await db.pool.oneFirst(sql.unsafe`SELECT created_by FROM agent_registration_tokens`);
  t.match(actor, /^key:wharf_\w{4}/, 'made by the API key, as the audit log says too');

  for (const argv of [['agent', 'token', 'list'], ['agent', 'token', 'list', '--json'], ['agent', 'list'], ['agent', 'revoke', '987654'], ['agent', 'token', 'revoke', '987654']]) {
    const a = await run(argv, local);
    const b = await run(argv, remote);
    t.equal(b.code, a.code, `wharf ${argv.join(' ')}: the same exit code (${a.code})`);
    t.equal(b.out, a.out, `wharf ${argv.join(' ')}: the same output`);
    t.equal(b.err, a.err, `wharf ${argv.join(' ')}: the same errors`);
  }
  t.match((await run(['agent', 'list'], remote)).out, /lab-1\s+home-lab\s+Connected/);

  const denied = await run(['agent', 'token', 'create', '--pool', 'lab'], { WHARF_URL: url, WHARF_TOKEN: reader });
  t.equal(denied.code, 1);
  t.match(denied.err, /\(permission-denied\)/, "the API's reason");
  t.equal((await run(['agent', 'list'], { WHARF_URL: url, WHARF_TOKEN: reader })).code, 0, 'a read key lists agents');

  const agentId = registered.ok ? registered.agent.agentId : 0;
  const revoked = await run(['agent', 'revoke', String(agentId)], remote);
  t.equal(revoked.code, 0, revoked.err);
  t.equal(revoked.out, `agent ${agentId} revoked: its credentials stop working now; its environments move to another agent of its pool\n`);
  t.equal(registered.ok ? await agents.authenticateAgentByCredential(db.pool, registered.credential) : 'x', null, 'its credential stops working');
  const tokenId = String(await db.pool.oneFirst(sql.unsafe`SELECT id FROM agent_registration_tokens`));
  t.equal((await run(['agent', 'token', 'revoke', tokenId], remote)).code, 0);
  t.match((await run(['agent', 'token', 'list'], local)).out, /home-lab\s+revoked/, 'the local store sees the remote revocation');
  const audit = await db.pool.any(sql.unsafe`SELECT action FROM audit_log WHERE action LIKE 'agent%' ORDER BY id`);
  t.same(audit.map((r) => r.action), ['agent-token-create', 'agent-revoke', 'agent-token-revoke'], 'each change audited once, by the API');
  // `wharf logs` of an environment on a pull agent says where its logs are.
  const { tenantId, repositoryId } = await seedRepository(db.pool, { tenant: 'local' });
  const [envId] = await seedEnvironments(db.pool, [{ tenantId, repositoryId, app: 'shop', name: 'production', target: 'agent:home-lab', digest: 'sha256:1', spec: null }]);
  const logs = await run(['logs', 'production'], local);
  t.equal(logs.code, 1);
  t.equal(logs.err, `shop/production runs on a pull agent (agent:home-lab); read its logs on the agent's host: wharf agent logs --config agent.yaml ${envId}\n`);
  const unreachable = await run(['agent', 'list'], { WHARF_URL: 'http://127.0.0.1:9', WHARF_TOKEN: admin });
  t.equal(unreachable.code, 1);
  t.match(unreachable.err, /wharf agent list: cannot reach http:\/\/127\.0\.0\.1:9/);
});
