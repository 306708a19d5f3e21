/**
 * The reconcile steps driven from an in-memory EnvironmentSnapshot, with no database: what an operator working from
 * WorkflowApp custom resources does (read the resource into a snapshot, run the steps, write the status back).
 */
import {
  type EnvironmentSnapshot,
  nothingRunning,
  type Observation,
  REASONS,
  type StatusUpdate,
  type Target,
} from '@wharf/contracts';
import { createMemoryTarget, silentLog } from '@wharf/testkit';
import t from 'tap';
import {
  applyStatusUpdate,
  createTargetRegistry,
  existingTarget,
  reconcileEnvironment,
  type RolloutStartRequest,
  summarizeOutcome,
  type TargetResolver,
} from '../src/index.js';
import { specFor } from './helpers.js';

const snapshot = (over: Partial<EnvironmentSnapshot['identity']> = {}): EnvironmentSnapshot => ({
  identity: { id: 1, tenantId: 1, repositoryId: 1, app: 'shop', name: 'prod', kind: 'production', branch: 'main', prNumber: null, target: 'memory', ...over },
  generation: 1,
  desired: { versionId: null, digest: 'sha256:v1', spec: specFor('shop', 'prod', 'v1'), rollbackOfVersionId: null },
  observed: { generation: 0, digest: null, versionId: null, url: null },
  conditions: [],
  driftMode: 'correct',
  deletionRequested: false,
  failureCount: 0,
});

/** One pass of an operator's loop: steps, then status, then the snapshot as its store would keep it. */
async function reconcileInMemory(env: EnvironmentSnapshot, targets: TargetResolver, starts: RolloutStartRequest[] = []) {
  const result = await reconcileEnvironment(env, {
    targets,
    log: silentLog,
    signal: new AbortController().signal,
    applyTimeoutMs: 5_000,
    startRollout: async (s) => void starts.push(s),
  });
  const update: StatusUpdate = summarizeOutcome(env, result, { now: new Date('2026-11-22T03:00:00Z'), resyncMs: 60_000, random: () => 0.5 });
  return { result, update, next: applyStatusUpdate(env, update) };
}

const registry = (targets: Record<string, Target>) =>
  createTargetRegistry(
    Object.fromEntries(Object.keys(targets).map((k) => [k, {}])),
    { log: silentLog },
    Object.fromEntries(Object.entries(targets).map(([k, target]) => [k, existingTarget(target, k === 'agent' ? 'required' : 'optional')])),
  );

t.test('a new environment is created, then stays up to date; drift is corrected', async (t) => {
  const memory = createMemoryTarget();
  const targets = await registry({ memory });
  const starts: RolloutStartRequest[] = [];
  const first = await reconcileInMemory(snapshot(), targets, starts);
  t.match(first.result, { kind: 'succeeded', action: { type: 'create', reason: 'NewEnvironment' } });
  t.match(starts, [{ action: 'create', reason: 'NewEnvironment', deleting: false }]);
  t.match(first.update, { observed: { generation: 1, digest: 'sha256:v1' }, url: 'memory://shop/prod', history: { result: 'succeeded' } });
  t.match(first.update.outbox, [{ kind: 'deployment_status', state: 'success', payload: { app: 'shop', sha: specFor('shop', 'prod', 'v1').version.sha } }]);
  const ready = first.next;
  if (!ready) throw new Error('the environment disappeared');
  t.match(ready.conditions.find((c) => c.type === 'Ready'), { status: 'True', reason: 'RolloutSucceeded' });
  t.equal(memory.applies.get('1:1'), 1);

  const again = await reconcileInMemory(ready, targets);
  t.match(again.result, { kind: 'noop', reason: 'UpToDate' });
  t.equal(memory.applies.get('1:1'), 1, 'nothing applied twice');

  memory.kill(1);
  const drift = await reconcileInMemory(ready, targets);
  t.match(drift.result, { kind: 'succeeded', action: { reason: 'RuntimeMissing', drift: true } });
  t.match(drift.next?.conditions.find((c) => c.type === 'Ready'), { reason: REASONS.DriftCorrected });
});

t.test('failures back off and count; an unknown target stalls; a deletion removes the environment', async (t) => {
  const memory = createMemoryTarget();
  const targets = await registry({ memory });
  memory.setFault(1, { kind: 'throw', error: () => new Error('disk full') });
  const failed = await reconcileInMemory(snapshot(), targets);
  t.match(failed.result, { kind: 'failed', reason: 'ApplyFailed', message: 'disk full' });
  t.match(failed.update, { failureCount: 1, history: { result: 'failed' } });
  t.ok(failed.update.nextAttemptInMs !== null && failed.update.nextAttemptInMs >= 800 && failed.update.nextAttemptInMs <= 1_200);
  t.equal(failed.next?.failureCount, 1);

  const nowhere = await reconcileInMemory(snapshot({ target: 'nowhere' }), targets);
  t.match(nowhere.result, { kind: 'stalled', reason: 'UnknownTarget' });
  t.equal(nowhere.update.nextAttemptInMs, null, 'not retried until the desired state changes');

  memory.setFault(1, null);
  const up = (await reconcileInMemory(snapshot(), targets)).next;
  if (!up) throw new Error('the environment disappeared');
  const gone = await reconcileInMemory({ ...up, generation: 2, deletionRequested: true }, targets);
  t.match(gone.result, { kind: 'deleted' });
  t.equal(gone.next, null);
  t.equal(memory.deletes.get(1), 1);
});

t.test('agent:<pool> reaches the agent target with its pool; a target still rolling out this generation is waited for', async (t) => {
  const agent = createMemoryTarget();
  const targets = await registry({ agent });
  await reconcileInMemory(snapshot({ target: 'agent:edge' }), targets);
  t.equal(agent.refs.get(1)?.qualifier, 'edge', 'the pool is in every TargetRef');
  t.match(await reconcileInMemory(snapshot({ target: 'agent' }), targets), { result: { kind: 'stalled', message: /needs a name: agent:<name>/ } });

  // A target that rolls out by itself (a custom resource's status): at this generation, not healthy, Progressing.
  const rolling: Observation = {
    ...nothingRunning(),
    exists: true,
    digest: 'sha256:v0',
    observedGeneration: 1,
    conditions: [{ type: 'Progressing', status: 'True', reason: REASONS.Waiting, message: '1 of 2 replicas updated', lastTransitionTime: '2026-11-22T03:00:00Z' }],
  };
  const slow = { ...createMemoryTarget(), observe: async () => rolling };
  const waiting = await reconcileInMemory(snapshot(), await registry({ memory: slow }));
  t.match(waiting.result, { kind: 'waiting', reason: 'Waiting', message: '1 of 2 replicas updated' });
  t.match(waiting.next?.conditions, [{ type: 'Progressing', status: 'True', reason: 'Waiting' }]);
});

t.test('the source owns InvalidVersion: a reconcile never clears it, in memory as in Postgres', async (t) => {
  const targets = await registry({ memory: createMemoryTarget() });
  const invalid = { type: 'Stalled' as const, status: 'True' as const, reason: REASONS.InvalidVersion, message: 'bad', lastTransitionTime: '2026-11-22T03:00:00Z' };
  const { next } = await reconcileInMemory({ ...snapshot(), conditions: [invalid] }, targets);
  t.match(next?.conditions.find((c) => c.type === 'Stalled'), { reason: 'InvalidVersion', status: 'True' });
  t.match(next?.conditions.find((c) => c.type === 'Ready'), { status: 'True' }, 'while the last good version runs');
});
