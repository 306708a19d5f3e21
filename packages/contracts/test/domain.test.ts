/** The shared vocabulary: target names, the one-word state, rollout wording, conditions read from elsewhere, backoff. */
import t from 'tap';
import {
  backoffDelay,
  type Condition,
  describeRollout,
  environmentState,
  formatState,
  parseConditions,
  parseTargetName,
  previewEnvironmentName,
  resyncDelay,
} from '../src/index.js';

const at = '2026-11-22T03:00:00Z';
const c = (type: Condition['type'], status: Condition['status'], reason: Condition['reason'], message = ''): Condition => ({ type, status, reason, message, lastTransitionTime: at });

t.test('target names: a kind and, for pools and clusters, a qualifier', async (t) => {
  t.same(parseTargetName('local'), { kind: 'local', qualifier: null });
  t.same(parseTargetName('agent:edge-1'), { kind: 'agent', qualifier: 'edge-1' });
  t.same(parseTargetName('kubernetes:eu'), { kind: 'kubernetes', qualifier: 'eu' });
  for (const bad of ['', 'Agent:x', 'agent:', 'agent:-x', 'agent:a:b', "local' OR 1=1", 'a/b']) t.equal(parseTargetName(bad), null, JSON.stringify(bad));
  t.equal(previewEnvironmentName(7), 'pr-7');
});

t.test('one word for the state, the same everywhere', async (t) => {
  const word = (conditions: Condition[], extra: { suspended?: boolean; deletionRequested?: boolean } = {}) => formatState(environmentState({ conditions, ...extra }));
  t.equal(word([c('Ready', 'True', 'RolloutSucceeded')]), 'Ready');
  t.equal(word([c('Ready', 'True', 'RolloutSucceeded'), c('Stalled', 'True', 'InvalidVersion', 'app.yaml:3:1 …')]), 'Stalled (InvalidVersion)', 'the last good version runs, and it says why the new one does not');
  t.equal(word([c('Ready', 'False', 'ApplyFailed'), c('Degraded', 'True', 'ApplyFailed')]), 'Degraded (ApplyFailed)');
  t.equal(word([c('Progressing', 'True', 'Progressing')]), 'Progressing', 'a reason that repeats the state is left out');
  t.equal(word([c('Progressing', 'True', 'Waiting', '1 of 2 replicas')]), 'Progressing (Waiting)');
  t.equal(word([]), 'Pending');
  t.equal(word([c('Ready', 'False', 'NoVersion')]), 'Pending (NoVersion)');
  t.equal(word([c('Ready', 'True', 'RolloutSucceeded')], { suspended: true }), 'Suspended');
  t.equal(word([c('Ready', 'True', 'RolloutSucceeded')], { suspended: true, deletionRequested: true }), 'Deleting');
  t.match(environmentState({ conditions: [c('Stalled', 'True', 'InvalidVersion', 'app.yaml:3:1 duplicate module')] }), { state: 'Stalled', reason: 'InvalidVersion', message: 'app.yaml:3:1 duplicate module' });
});

t.test('rollouts are worded once', async (t) => {
  const sha = '4eb6b0e'.padEnd(40, '0');
  t.equal(describeRollout({ action: 'update', sha: 'a'.repeat(40), subject: 'Revert', rollbackSha: sha, rollbackSubject: 'First version' }), 'rollback to 4eb6b0e (First version)');
  t.equal(describeRollout({ action: 'update', sha: '1cded6d'.padEnd(40, '0'), subject: 'New greeting', rollbackSha: null, rollbackSubject: null }), 'deploy 1cded6d (New greeting)');
  t.equal(describeRollout({ action: 'delete', sha: '1cded6d'.padEnd(40, '0'), subject: 'x', rollbackSha: null, rollbackSubject: null }), 'tear down 1cded6d (x)');
  t.equal(describeRollout({ action: 'noop', sha: null, subject: null, rollbackSha: null, rollbackSubject: null }), 'noop');
});

t.test("conditions read from a custom resource: unknown reasons become Unknown, non-conditions are dropped", async (t) => {
  t.same(
    parseConditions([
      { type: 'Ready', status: 'True', reason: 'MinimumReplicasAvailable', message: 'ok', lastTransitionTime: at },
      { type: 'Stalled', status: 'True', reason: 'InvalidVersion', lastTransitionTime: at },
      { type: 'Available', status: 'True', reason: 'X', lastTransitionTime: at },
      { type: 'Ready', status: 'Maybe', reason: 'X', lastTransitionTime: at },
      'nonsense',
      null,
    ]),
    [c('Ready', 'True', 'Unknown', 'ok'), c('Stalled', 'True', 'InvalidVersion')],
  );
  t.same(parseConditions({ not: 'a list' }), []);
});

t.test('backoff: proportional for reconciles, equal jitter for deliveries; resync within its period', async (t) => {
  t.equal(backoffDelay(1, () => 0.5), 1_000);
  t.equal(backoffDelay(2, () => 0), 1_600);
  t.equal(backoffDelay(3, () => 1), 4_800);
  t.equal(backoffDelay(100, () => 1), 300_000, 'capped');
  const equal = { baseMs: 2_000, maxMs: 600_000, jitter: 'equal' as const };
  t.equal(backoffDelay(1, () => 0, equal), 1_000, 'never below half the base');
  t.equal(backoffDelay(4, () => 0, equal), 8_000);
  t.equal(backoffDelay(4, () => 1, equal), 16_000);
  t.equal(resyncDelay(60_000, () => 0), 45_000);
  t.equal(resyncDelay(60_000, () => 1), 60_000);
});
