/**
 * `wharf billing status` prints the same plan, status and usage against each limit from the store here and from a
 * remote Wharf's API; `wharf billing sync-catalog` sets the Stripe catalog up once (the fake Stripe).
 */
import { loadSettings } from '@wharf/contracts';
import { seedEnvironments } from '@wharf/store/testing';
import { createTestDatabase, seedRepository, silentLog, startFakeStripe, tempDir } from '@wharf/testkit';
import { apiUnit, buildServer, controlPlaneSettings } from '@wharf/webhook-app';
import { Registry } from 'prom-client';
import t from 'tap';
import { main } from '../src/main.js';

const spec = (env: string) => ({ app: 'shop', environment: env, version: { sha: 'a'.repeat(40), digest: 'sha256:1' }, files: [{ path: 'app.yaml', content: 'modules: []\n' }], runtime: {}, replicas: 1, env: [] });

async function run(argv: string[], env: Record<string, string>, cwd: string) {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s), cwd, env: { ...env, HOME: cwd }, waitForStop: () => new Promise(() => undefined) });
  return { code, out, err };
}

t.test('billing status: locally and remotely the same usage against the Free limits', async (t) => {
  const db = await createTestDatabase(t);
  const dir = await tempDir(t, 'wharf-cli-billing-');
  const { tenantId, repositoryId } = await seedRepository(db.pool, { tenant: 'local', plan: 'free' });
  await seedEnvironments(
    db.pool,
    ['production', 'pr-1', 'pr-2'].map((name) => ({ tenantId, repositoryId, app: 'shop', name, kind: name === 'production' ? ('production' as const) : ('preview' as const), target: 'memory', digest: 'sha256:1', spec: spec(name), converged: { dueInMs: 3_600_000 } })),
  );
  const local = await run(['billing', 'status'], { DATABASE_URL: db.url }, dir);
  t.equal(local.code, 0, local.err);
  t.match(local.out, /Free \(free\)/);
  t.match(local.out, /billing is not connected to Stripe/);
  t.match(local.out, /preview environments at once\s+2\s+3/);
  t.match(local.out, /production environments\s+1\s+2/);
  const json = await run(['billing', 'status', '--json'], { DATABASE_URL: db.url }, dir);
  t.equal(JSON.parse(json.out).plan, 'free');

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
  const made = await fetch(`${url}/api/v1/keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ci', scopes: ['read'] }) });
  const key = ((await made.json()) as { key: string }).key;
  const remote = await run(['billing', 'status'], { WHARF_URL: url, WHARF_TOKEN: key }, dir);
  t.equal(remote.code, 0, remote.err);
  const table = (s: string) => s.split('\n').filter((l) => /^\s{2}\S.*\d/.test(l) && !l.includes('projected'));
  // The API made the local owner a member (a seat): compare with what the store says now.
  const localNow = await run(['billing', 'status'], { DATABASE_URL: db.url }, dir);
  t.match(localNow.out, /seats\s+1\s+1  at the limit/);
  t.same(table(remote.out), table(localNow.out), 'the same usage table remotely');
  const refused = await run(['billing', 'status'], { WHARF_URL: url, WHARF_TOKEN: 'wharf_nope' }, dir);
  t.equal(refused.code, 1);
  t.match(refused.err, /credentials|401|unauthenticated/i);
  const unknown = await run(['billing', 'status', '--org', 'nope'], { DATABASE_URL: db.url }, dir);
  t.equal(unknown.code, 1);
  t.match(unknown.err, /no organization nope here/);
});

t.test('billing sync-catalog: creates the catalog once; needs a key', async (t) => {
  const dir = await tempDir(t, 'wharf-cli-billing-');
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const env = { STRIPE_SECRET_KEY: fake.secretKey, STRIPE_API_URL: fake.url };
  const first = await run(['billing', 'sync-catalog'], env, dir);
  t.equal(first.code, 0, first.err);
  t.match(first.out, /19 created, 0 updated, 0 unchanged/);
  const second = await run(['billing', 'sync-catalog'], env, dir);
  t.match(second.out, /^0 created, 0 updated, 19 unchanged\n$/);
  const none = await run(['billing', 'sync-catalog'], {}, dir);
  t.equal(none.code, 1);
  t.match(none.err, /needs STRIPE_SECRET_KEY/);
  t.same(fake.problems, []);
});
