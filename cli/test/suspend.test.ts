import { createMemoryTarget, createTestDatabase } from '@wharf/testkit';
import { createReconciler, createTargetRegistry, existingTarget } from '@wharf/reconciler';
import pino from 'pino';
import { getEnvironmentState, listAllAudit } from '@wharf/store/testing';
import t from 'tap';
import { runStatus } from '../src/commands/status.js';
import { runResume, runSuspend } from '../src/commands/suspend.js';
import { seedTwo } from './helpers.js';

const log = pino({ level: 'silent' });

t.test('wharf suspend and resume', async (t) => {
  const db = await createTestDatabase(t);
  const { pr } = await seedTwo(db.pool, { production: 'a', pr: 'a' });
  const target = createMemoryTarget();
  const rec = createReconciler({ pool: db.pool, targets: await createTargetRegistry({ memory: {} }, { log }, { memory: existingTarget(target) }), log });
  let out = '';
  let err = '';
  const io = { stdout: (s: string) => (out += s), stderr: (s: string) => (err += s), cwd: '/', pool: db.pool };
  t.equal(await runSuspend(['shop/pr-4', '--reason', 'load test tonight'], io), 0);
  t.match(out, /shop\/pr-4 suspended/);
  t.equal(await rec.reconcileOnce(), 1, 'only production is reconciled');
  t.notOk(target.running.has(pr));
  out = '';
  await runStatus([], io);
  t.match(out, /pr-4\s+.*Suspended/);
  t.equal(await runResume(['pr-4--shop'], io), 0);
  t.equal(await rec.reconcileOnce(), 1, 'resumed and due at once');
  t.ok(target.running.has(pr));
  t.equal(await runSuspend(['nope'], io), 1);
  t.match(err, /no environment named nope/);
  t.equal(await runSuspend([], io), 2);
  t.equal((await getEnvironmentState(db.pool, pr))?.suspended, false);
  t.match(await listAllAudit(db.pool), [
    { action: 'suspend', actor: /^cli:/, subject: `environment:${pr}`, reason: 'load test tonight', details: { app: 'shop', environment: 'pr-4' } },
    { action: 'resume', actor: /^cli:/, subject: `environment:${pr}`, reason: 'wharf resume pr-4--shop' },
  ], 'who suspended and resumed it, and why, are in the audit log');
});
