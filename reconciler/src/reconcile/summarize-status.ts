/**
 * The one place where a reconcile's result becomes status: conditions, observed state, history, outbox, failure
 * count and the next attempt. Pure.
 */
import { type Condition, parseConditions, REASONS, setCondition } from '@wharf/contracts';
import type { environments } from '@wharf/store';
import { backoffDelay, resyncDelay } from '../backoff.js';
import type { ReconcileResult } from './result.js';

type Claimed = environments.ClaimedEnvironment;
type Outcome = environments.ReconcileOutcome;
type OutboxMessage = environments.OutboxMessage;

export interface SummarizeOptions {
  now: Date;
  resyncMs: number;
  random: () => number;
}

/** Stalled with reason InvalidVersion belongs to packages/source: never overwritten or cleared here. */
function set(conditions: Condition[], next: Omit<Condition, 'lastTransitionTime'>, now: Date): Condition[] {
  const current = conditions.find((c) => c.type === next.type);
  if (next.type === 'Stalled' && current?.reason === REASONS.InvalidVersion) return conditions;
  return setCondition(conditions, next, now);
}

function apply(conditions: Condition[], updates: Omit<Condition, 'lastTransitionTime'>[], now: Date): Condition[] {
  return updates.reduce((acc, u) => set(acc, u, now), conditions);
}

const sameConditions = (a: readonly Condition[], b: readonly Condition[]) => JSON.stringify(a) === JSON.stringify(b);

export function deploymentMessage(
  env: Claimed,
  state: 'in_progress' | 'success' | 'failure' | 'error' | 'inactive',
  description: string,
  url: string | null,
): OutboxMessage {
  const spec = env.desired_spec as { version?: { sha?: string } } | null;
  return {
    kind: 'deployment_status',
    state,
    payload: {
      environmentId: env.id,
      repositoryId: env.repository_id,
      app: env.app,
      environment: env.name,
      environmentKind: env.kind,
      prNumber: env.pr_number,
      sha: spec?.version?.sha ?? null,
      digest: env.desired_digest,
      generation: env.generation,
      state,
      url,
      description: description.slice(0, 140),
    },
  };
}

/** Conditions, history row and outbox message of a rollout that starts now. */
export function summarizeStart(env: Claimed, message: string, deleting: boolean, now: Date) {
  const previous = parseConditions(env.conditions);
  const reason = deleting ? REASONS.TearingDown : REASONS.Progressing;
  const conditions = apply(previous, [{ type: 'Progressing', status: 'True', reason, message }], now);
  return {
    conditions,
    outbox: deleting ? [] : [deploymentMessage(env, 'in_progress', message, env.url)],
  };
}

export function summarizeOutcome(env: Claimed, result: ReconcileResult, options: SummarizeOptions): Outcome {
  const { now } = options;
  const previous = parseConditions(env.conditions);
  const wasReady = previous.find((c) => c.type === 'Ready');
  const wasFailing = previous.some((c) => c.type === 'Degraded' && c.status === 'True') || env.failure_count > 0;
  const resync = resyncDelay(options.resyncMs, options.random);
  const base = { id: env.id, generation: env.generation };
  const observedNow = { generation: env.generation, digest: env.desired_digest, versionId: env.desired_version_id };

  switch (result.kind) {
    case 'noop': {
      const healthy = [
        {
          type: 'Ready' as const,
          status: 'True' as const,
          reason: wasReady?.status === 'True' ? wasReady.reason : wasFailing || wasReady ? REASONS.Recovered : REASONS.RolloutSucceeded,
          message: wasReady?.status === 'True' ? wasReady.message : result.message,
        },
        { type: 'Progressing' as const, status: 'False' as const, reason: REASONS.RolloutSucceeded, message: result.message },
        { type: 'Degraded' as const, status: 'False' as const, reason: REASONS.RolloutSucceeded, message: '' },
      ];
      const conditions = apply(previous, healthy, now);
      const changed = !sameConditions(previous, conditions);
      const atGeneration = env.observed_generation === env.generation && env.observed_digest === env.desired_digest;
      return {
        ...base,
        nextAttemptInMs: resync,
        ...(changed ? { conditions } : {}),
        ...(atGeneration ? {} : { observed: observedNow }),
        ...(env.failure_count > 0 ? { failureCount: 0 } : {}),
        ...(result.url !== null && result.url !== env.url ? { url: result.url } : {}),
        ...(changed && wasReady?.status !== 'True'
          ? { outbox: [deploymentMessage(env, 'success', result.message, result.url ?? env.url)] }
          : {}),
      };
    }
    case 'no-version': {
      const conditions = apply(previous, [
        { type: 'Ready', status: 'False', reason: REASONS.NoVersion, message: result.message },
        { type: 'Progressing', status: 'False', reason: REASONS.NoVersion, message: result.message },
      ], now);
      return { ...base, nextAttemptInMs: null, conditions, observed: { generation: env.generation, digest: env.observed_digest, versionId: env.observed_version_id } };
    }
    case 'succeeded': {
      const drift = result.action.drift;
      const reason = drift ? REASONS.DriftCorrected : wasFailing ? REASONS.Recovered : REASONS.RolloutSucceeded;
      const message = drift
        ? `drift corrected: ${result.action.message}`
        : `${result.action.type} ${result.action.message}${wasFailing ? ' (recovered)' : ''}`;
      const conditions = apply(previous, [
        { type: 'Ready', status: 'True', reason, message },
        { type: 'Progressing', status: 'False', reason, message },
        { type: 'Degraded', status: 'False', reason, message: '' },
        { type: 'Stalled', status: 'False', reason, message: '' },
      ], now);
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
      const conditions = apply(previous, [
        { type: 'Ready', status: 'False', reason: REASONS.DriftDetected, message },
        { type: 'Degraded', status: 'True', reason: REASONS.DriftDetected, message },
      ], now);
      return { ...base, nextAttemptInMs: resync, conditions: sameConditions(previous, conditions) ? undefined : conditions };
    }
    case 'deleted':
      return { ...base, nextAttemptInMs: null, deleted: true, outbox: [deploymentMessage(env, 'inactive', 'environment deleted', null)] };
    case 'waiting': {
      const conditions = apply(previous, [{ type: 'Progressing', status: 'True', reason: result.reason, message: result.message }], now);
      return {
        ...base,
        nextAttemptInMs: result.retryAfterMs,
        conditions,
        ...(result.url !== undefined && result.url !== null ? { url: result.url } : {}),
      };
    }
    case 'stalled': {
      const conditions = apply(previous, [
        { type: 'Stalled', status: 'True', reason: result.reason, message: result.message },
        { type: 'Ready', status: 'False', reason: result.reason, message: result.message },
        { type: 'Progressing', status: 'False', reason: result.reason, message: result.message },
      ], now);
      return {
        ...base,
        nextAttemptInMs: null,
        conditions,
        history: { result: 'failed', reason: result.reason, message: result.message },
        outbox: [deploymentMessage(env, 'failure', result.message, env.url)],
      };
    }
    case 'failed': {
      const failures = env.failure_count + 1;
      const delay = backoffDelay(failures, options.random);
      const conditions = apply(previous, [
        { type: 'Ready', status: 'False', reason: result.reason, message: result.message },
        { type: 'Degraded', status: 'True', reason: result.reason, message: result.message },
        {
          type: 'Progressing',
          status: 'True',
          reason: REASONS.Progressing,
          message: `retrying in ${Math.round(delay / 1000)}s (attempt ${failures + 1})`,
        },
      ], now);
      return {
        ...base,
        nextAttemptInMs: delay,
        conditions,
        failureCount: failures,
        history: { result: 'failed', reason: result.reason, message: result.message },
        outbox: [deploymentMessage(env, 'failure', result.message, env.url)],
      };
    }
  }
}
