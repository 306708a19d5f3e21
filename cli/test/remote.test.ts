/**
 * The environment commands against a remote Wharf (its REST API over HTTP, with an API key) print what they print
 * locally and exit with the same codes; `wharf login` keeps contexts in a file only its owner reads.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { loadSettings } from '@wharf/contracts';
import { seedEnvironments } from '@wharf/store/testing';
import { createTestDatabase, seedRepository, silentLog, tempDir } from '@wharf/testkit';
import { apiUnit, buildServer, controlPlaneSettings } from '@wharf/webhook-app';
import { Registry } from 'prom-client';
import t from 'tap';
import { main } from '../src/main.js';

const spec = (env: string, v: string) => ({
  app: 'shop',
  environment: env,
  version: { sha: v.padEnd(40, 'a'), digest: `sha256:${v}` },
  files: [{ path: 'app.yaml', content: 'modules: []\n' }],
  runtime: {},
  replicas: 1,
  env: [],
});

t.test('status, history, diff, suspend, resume and errors: the same remotely as locally', async (t) => {
  const db = await createTestDatabase(t);
  const dir = await tempDir(t, 'wharf-cli-remote-');
  const { tenantId, repositoryId } = await seedRepository(db.pool, { tenant: 'local' });
  await seedEnvironments(db.pool, [
    { tenantId, repositoryId, app: 'shop', name: 'production', kind: 'production', target: 'memory', digest: 'sha256:1111111', spec: spec('production', '1111111'), converged: { dueInMs: 3_600_000 } },
    { tenantId, repositoryId, app: 'shop', name: 'pr-4', target: 'memory', digest: 'sha256:2222222', spec: spec('pr-4', '2222222') },
  ]);
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
  // The local owner (no credentials, from this machine) makes a key for CI.
  const made = await fetch(`${url}/api/v1/keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ci', scopes: ['deploy'] }) });
  t.equal(made.status, 201);
  const key = ((await made.json()) as { key: string }).key;

  const run = async (argv: string[], env: Record<string, string>) => {
    let out = '';
    let err = '';
    const code = await main(argv, {
      stdout: (s) => (out += s),
      stderr: (s) => (err += s),
      cwd: dir,
      env: { ...env, HOME: dir },
      waitForStop: () => new Promise(() => undefined),
    });
    return { code, out: out.replace(/\b\d+s\b/g, 'Ns'), err };
  };
  const local = { DATABASE_URL: db.url };
  const remote = { WHARF_URL: url, WHARF_TOKEN: key };
  for (const argv of [['status'], ['status', '--json'], ['history', 'production'], ['diff', 'pr-4'], ['diff', 'shop/pr-4', '--json'], ['status', '--app', 'nope'], ['history', 'nope'], ['diff']]) {
    const a = await run(argv, local);
    const b = await run(argv, remote);
    t.equal(b.code, a.code, `wharf ${argv.join(' ')}: the same exit code (${a.code})`);
    t.equal(b.out.replace(/"(createdAt|lastReconciledAt)": "[^"]+"/g, ''), a.out.replace(/"(createdAt|lastReconciledAt)": "[^"]+"/g, ''), `wharf ${argv.join(' ')}: the same output`);
    t.equal(b.err, a.err, `wharf ${argv.join(' ')}: the same errors`);
  }
  const suspended = await run(['suspend', 'production', '--reason', 'freeze'], remote);
  t.equal(suspended.code, 0);
  t.equal(suspended.out, 'shop/production suspended: Wharf leaves it as it is until `wharf resume production`\n');
  t.match((await run(['status'], local)).out, /shop\s+production\s+1111111\s+Suspended/, 'the local store sees the remote suspension');
  t.equal((await run(['suspend', 'production'], local)).out, 'shop/production is already suspended\n');
  t.equal((await run(['resume', 'production'], remote)).out, 'shop/production resumed\n');
  const audit = await db.pool.any((await import('@wharf/store')).sql.unsafe`SELECT actor, action, reason FROM audit_log ORDER BY id`);
  t.match(audit, [{ action: 'api-key.create' }, { actor: /^key:wharf_\w{4} \(ci\)$/, action: 'suspend', reason: 'freeze' }, { action: 'resume' }]);
  const rollback = await run(['rollback', 'production', 'deadbeef'], remote);
  t.equal(rollback.code, 1);
  t.match(rollback.err, /no version deadbeef of shop/);
  const wrongKey = await run(['status'], { WHARF_URL: url, WHARF_TOKEN: `${key.slice(0, -1)}${key.endsWith('a') ? 'b' : 'a'}` });
  t.equal(wrongKey.code, 1);
  t.match(wrongKey.err, /not a Wharf key or token.*\(invalid-credentials\)/);

  // wharf login: a context, then the commands use it without WHARF_URL; `wharf context local` goes back.
  const login = await run(['login', '--url', url, '--token', key, '--context', 'staging'], {});
  t.equal(login.code, 0, login.err);
  t.match(login.out, /Logged in to .* as organization local\. Context staging is current/);
  const file = path.join(dir, '.config', 'wharf', 'config.json');
  t.equal((await stat(file)).mode & 0o777, 0o600, 'only its owner reads the config file');
  t.match((await run(['status'], {})).out, /shop\s+production/);
  t.match((await run(['context'], {})).out, /\* staging/);
  t.equal((await run(['context', 'local'], {})).code, 0);
  t.equal((await run(['status'], {})).code, 1, 'back on this machine, where nothing runs `wharf up`');
  t.equal((await run(['login', '--url', url, '--token', 'not-a-key'], {})).code, 1);
});
