import { createMemoryTarget, createTestDatabase } from '@wharf/testkit';
import { createReconciler, createTargetRegistry, existingTarget } from '@wharf/reconciler';
import pino from 'pino';
import t from 'tap';
import { runStatus } from '../src/commands/status.js';
import { seedTwo } from './helpers.js';

const log = pino({ level: 'silent' });

t.test('wharf status: table and --json with what a user needs to see', async (t) => {
  const db = await createTestDatabase(t);
  const { pr } = await seedTwo(db.pool, { production: '1111111', pr: '2222222' });
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
