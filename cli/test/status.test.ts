import { createMemoryTarget, createTestDatabase, seedRepository } from '@wharf/testkit';
import { createReconciler, createTargetRegistry, existingTarget } from '@wharf/reconciler';
import pino from 'pino';
import { seedEnvironments } from '@wharf/store/testing';
import t from 'tap';
import { runStatus } from '../src/commands/status.js';

const spec = (app: string, env: string, v: string) => ({
  app,
  environment: env,
  version: { sha: `${v}`.padEnd(40, 'a'), digest: `sha256:${v}` },
  files: [{ path: 'app.yaml', content: 'modules: []\n' }],
  runtime: {},
  replicas: 1,
  env: [],
});

async function seedTwo(pool: Parameters<typeof seedEnvironments>[0]) {
  const { tenantId, repositoryId } = await seedRepository(pool);
  const [prod = 0, pr = 0] = await seedEnvironments(pool, [
    { tenantId, repositoryId, app: 'shop', name: 'production', kind: 'production', target: 'memory', digest: 'sha256:1111111', spec: spec('shop', 'production', '1111111') },
    { tenantId, repositoryId, app: 'shop', name: 'pr-4', target: 'memory', digest: 'sha256:2222222', spec: spec('shop', 'pr-4', '2222222') },
  ]);
  return { prod, pr };
}

const log = pino({ level: 'silent' });

t.test('wharf status: table and --json with what a user needs to see', async (t) => {
  const db = await createTestDatabase(t);
  const { pr } = await seedTwo(db.pool);
  const target = createMemoryTarget();
  target.setFault(pr, { kind: 'throw', error: () => new Error('port 8080 already in use') });
  await createReconciler({ pool: db.pool, targets: await createTargetRegistry({ memory: {} }, { log }, { memory: existingTarget(target) }), log }).reconcileOnce();
  let out = '';
  const io = { stdout: (s: string) => (out += s), stderr: (s: string) => (out += s), cwd: '/', pool: db.pool };
  t.equal(await runStatus([], io), 0);
  const lines = out.split('\n');
  t.match(lines[0], /^APP\s+ENV\s+VERSION\s+STATE\s+AGE\s+URL$/);
  t.match(out, /shop\s+pr-4\s+-\s+→ 2222222\s+Degraded \(ApplyFailed\)\s+\d+s\s+-/);
  t.match(out, /shop\s+production\s+1111111\s+Ready\s+\d+s\s+memory:\/\/shop\/production/);
  t.match(out, /shop\/pr-4 Degraded \(ApplyFailed\): port 8080 already in use/, 'the failure says why');
  out = '';
  t.equal(await runStatus(['--json'], io), 0);
  const json = JSON.parse(out) as Record<string, unknown>[];
  t.equal(json.length, 2);
  t.match(json.find((e) => e.environment === 'production'), {
    app: 'shop',
    state: 'Ready',
    ready: 'True',
    url: 'memory://shop/production',
    version: { runningDigest: 'sha256:1111111' },
    conditions: [{ type: 'Ready', status: 'True' }],
  });
});
