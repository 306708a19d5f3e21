/**
 * The one place where a reconcile's result becomes status: conditions, observed state, history, outbox, failure
 * count and the next attempt. Pure, on the snapshot the steps worked on; the store (or an operator's custom
 * resource status) records the StatusUpdate it returns.
 */
import {
  backoffDelay,
  type Condition,
  type DeploymentState,
  type DeploymentStatusPayload,
  type EnvironmentSnapshot,
  OUTBOX_KINDS,
  type OutboxMessage,
  REASONS,
  resyncDelay,
  setCondition,
  type StatusUpdate,
} from '@wharf/contracts';
import type { ReconcileResult } from './result.js';

export interface SummarizeOptions {
  now: Date;
  resyncMs: number;
  random: () => number;
}

type ConditionUpdate = Omit<Condition, 'lastTransitionTime'>;

/** Stalled with reason InvalidVersion belongs to packages/source: never overwritten or cleared here. */
function set(conditions: Condition[], next: ConditionUpdate, now: Date): Condition[] {
  const current = conditions.find((c) => c.type === next.type);
  if (next.type === 'Stalled' && current?.reason === REASONS.InvalidVersion) return conditions;
  return setCondition(conditions, next, now);
}

const apply = (conditions: readonly Condition[], updates: readonly ConditionUpdate[], now: Date): Condition[] =>
  updates.reduce((acc, u) => set(acc, u, now), [...conditions]);

const sameConditions = (a: readonly Condition[], b: readonly Condition[]) => JSON.stringify(a) === JSON.stringify(b);

/** The deployment status GitHub (or whoever drains the outbox) hears for this state of the rollout. */
export function deploymentMessage(env: EnvironmentSnapshot, state: DeploymentState, description: string, url: string | null): OutboxMessage {
  const payload: DeploymentStatusPayload = {
    environmentId: env.identity.id,
    repositoryId: env.identity.repositoryId,
    app: env.identity.app,
    environment: env.identity.name,
    environmentKind: env.identity.kind,
    prNumber: env.identity.prNumber,
    sha: env.desired.spec?.version.sha ?? null,
    digest: env.desired.digest,
    generation: env.generation,
    state,
    url,
    description: description.slice(0, 140),
  };
  return { kind: OUTBOX_KINDS.deploymentStatus, state, payload: { ...payload } };
}

/** Conditions and outbox messages of a rollout that starts now. */
export function summarizeStart(env: EnvironmentSnapshot, message: string, deleting: boolean, now: Date): { conditions: Condition[]; outbox: OutboxMessage[] } {
  const reason = deleting ? REASONS.TearingDown : REASONS.Progressing;
  return {
    conditions: apply(env.conditions, [{ type: 'Progressing', status: 'True', reason, message }], now),
    outbox: deleting ? [] : [deploymentMessage(env, 'in_progress', message, env.observed.url)],
  };
}

export function summarizeOutcome(env: EnvironmentSnapshot, result: ReconcileResult, options: SummarizeOptions): StatusUpdate {
  const { now } = options;
  const previous = env.conditions;
  const wasReady = previous.find((c) => c.type === 'Ready');
  const wasFailing = previous.some((c) => c.type === 'Degraded' && c.status === 'True') || env.failureCount > 0;
  const resync = resyncDelay(options.resyncMs, options.random);
  const base = { id: env.identity.id, generation: env.generation };
  const observedNow = { generation: env.generation, digest: env.desired.digest, versionId: env.desired.versionId };

  switch (result.kind) {
    case 'noop': {
      const stalled = previous.find((c) => c.type === 'Stalled' && c.status === 'True');
      const conditions = apply(
        previous,
        [
          // What stalled it (a failure an agent reported) is over: the desired version runs.
          ...(stalled ? [{ type: 'Stalled', status: 'False', reason: REASONS.Recovered, message: '' } as const] : []),
          {
            type: 'Ready',
            status: 'True',
            reason: wasReady?.status === 'True' ? wasReady.reason : wasFailing || wasReady ? REASONS.Recovered : REASONS.RolloutSucceeded,
            message: wasReady?.status === 'True' ? wasReady.message : result.message,
          },
          { type: 'Progressing', status: 'False', reason: REASONS.RolloutSucceeded, message: result.message },
          { type: 'Degraded', status: 'False', reason: REASONS.RolloutSucceeded, message: '' },
          // What held it (a suspension, billing) is gone and it runs as desired: no longer Stalled.
          ...(previous.some((c) => c.type === 'Stalled' && c.status === 'True')
            ? [{ type: 'Stalled' as const, status: 'False' as const, reason: REASONS.RolloutSucceeded, message: '' }]
            : []),
        ],
        now,
      );
      const changed = !sameConditions(previous, conditions);
      const atGeneration = env.observed.generation === env.generation && env.observed.digest === env.desired.digest;
      return {
        ...base,
        nextAttemptInMs: resync,
        ...(changed ? { conditions } : {}),
        ...(atGeneration ? {} : { observed: observedNow }),
        ...(env.failureCount > 0 ? { failureCount: 0 } : {}),
        ...(result.url !== null && result.url !== env.observed.url ? { url: result.url } : {}),
        ...(changed && wasReady?.status !== 'True' ? { outbox: [deploymentMessage(env, 'success', result.message, result.url ?? env.observed.url)] } : {}),
      };
    }
    case 'no-version': {
      const conditions = apply(
        previous,
        [
          { type: 'Ready', status: 'False', reason: REASONS.NoVersion, message: result.message },
          { type: 'Progressing', status: 'False', reason: REASONS.NoVersion, message: result.message },
        ],
        now,
      );
      return { ...base, nextAttemptInMs: null, conditions, observed: { generation: env.generation, digest: env.observed.digest, versionId: env.observed.versionId } };
    }
    case 'succeeded': {
      const drift = result.action.drift;
      const reason = drift ? REASONS.DriftCorrected : wasFailing ? REASONS.Recovered : REASONS.RolloutSucceeded;
      const message = drift ? `drift corrected: ${result.action.message}` : `${result.action.type} ${result.action.message}${wasFailing ? ' (recovered)' : ''}`;
      const conditions = apply(
        previous,
        [
          { type: 'Ready', status: 'True', reason, message },
          { type: 'Progressing', status: 'False', reason, message },
          { type: 'Degraded', status: 'False', reason, message: '' },
          { type: 'Stalled', status: 'False', reason, message: '' },
        ],
        now,
      );
      return {
        ...base,
        nextAttemptInMs: resync,
        conditions,
        observed: observedNow,
        url: result.url,
        failureCount: 0,
        history: { result: 'succeeded', reason, message },
        outbox: [deploymentMessage(env, 'success', message, result.url)],
      };
    }
    case 'drift-detected': {
      const message = `drift detected, not corrected (drift mode warn): ${result.action.message}`;
      const conditions = apply(
        previous,
        [
          { type: 'Ready', status: 'False', reason: REASONS.DriftDetected, message },
          { type: 'Degraded', status: 'True', reason: REASONS.DriftDetected, message },
        ],
        now,
      );
      return { ...base, nextAttemptInMs: resync, ...(sameConditions(previous, conditions) ? {} : { conditions }) };
    }
    case 'deleted':
      return { ...base, nextAttemptInMs: null, deleted: true, outbox: [deploymentMessage(env, 'inactive', 'environment deleted', null)] };
    case 'waiting': {
      const conditions = apply(previous, [{ type: 'Progressing', status: 'True', reason: result.reason, message: result.message }], now);
      return { ...base, nextAttemptInMs: result.retryAfterMs, conditions, ...(result.url !== undefined && result.url !== null ? { url: result.url } : {}) };
    }
    case 'unknown': {
      // Never a failure and never a teardown: what runs keeps running, Wharf only cannot see it.
      const conditions = apply(previous, [{ type: 'Ready', status: 'Unknown', reason: result.reason, message: result.message }], now);
      return { ...base, nextAttemptInMs: result.retryAfterMs, ...(sameConditions(previous, conditions) ? {} : { conditions }) };
    }
    case 'stalled': {
      const conditions = apply(
        previous,
        [
          { type: 'Stalled', status: 'True', reason: result.reason, message: result.message },
          { type: 'Ready', status: 'False', reason: result.reason, message: result.message },
          { type: 'Progressing', status: 'False', reason: result.reason, message: result.message },
        ],
        now,
      );
      // A suspended or uninstalled tenant's installation takes no calls: nothing is queued for it.
      const tell = result.reason !== REASONS.TenantSuspended;
      return {
        ...base,
        nextAttemptInMs: null,
        conditions,
        history: { result: 'failed', reason: result.reason, message: result.message },
        ...(tell ? { outbox: [deploymentMessage(env, 'failure', result.message, env.observed.url)] } : {}),
      };
    }
    case 'failed': {
      const failures = env.failureCount + 1;
      const delay = backoffDelay(failures, options.random);
      const conditions = apply(
        previous,
        [
          { type: 'Ready', status: 'False', reason: result.reason, message: result.message },
          { type: 'Degraded', status: 'True', reason: result.reason, message: result.message },
          { type: 'Progressing', status: 'True', reason: REASONS.Progressing, message: `retrying in ${Math.round(delay / 1000)}s (attempt ${failures + 1})` },
        ],
        now,
      );
      return {
        ...base,
        nextAttemptInMs: delay,
        conditions,
        failureCount: failures,
        history: { result: 'failed', reason: result.reason, message: result.message },
        outbox: [deploymentMessage(env, 'failure', result.message, env.observed.url)],
      };
    }
  }
}
