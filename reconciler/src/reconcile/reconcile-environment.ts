/**
 * Reconcile one environment as small ordered steps with one signature. The steps read an EnvironmentSnapshot, so the
 * same code serves the Postgres-backed loop (reconciler.ts) and an operator working from WorkflowApp custom
 * resources. A step either returns a result (which ends the run) or undefined (go on); a thrown error is classified.
 * The caller turns the result into status once (summarize-status.ts).
 */
import {
  type EnvironmentSnapshot,
  findCondition,
  type HistoryReason,
  type Observation,
  type Plan,
  type PlanAction,
  PLAN_REASONS,
  type PlanActionType,
  plan,
  primaryAction,
  REASONS,
  type Target,
  type TargetEnvironment,
  type TargetLog,
  type TargetRef,
} from '@wharf/contracts';
import { classifyError, GenericError, ReconcileError, StalledError } from '../errors.js';
import type { TargetResolver } from '../targets/registry.js';
import type { ReconcileResult } from './result.js';
import { withTimeout } from './with-timeout.js';

/** What a rollout that starts now is: recorded (Progressing, history, outbox) before the target is touched. */
export interface RolloutStartRequest {
  message: string;
  action: PlanActionType;
  reason: HistoryReason;
  deleting: boolean;
}

export interface ReconcileDeps {
  targets: Pick<TargetResolver, 'resolve'>;
  log: TargetLog;
  /** Aborted when the reconciler stops. */
  signal: AbortSignal;
  /** Apply/observe/delete timeout. */
  applyTimeoutMs: number;
  startRollout(start: RolloutStartRequest): Promise<void>;
}

interface StepContext extends ReconcileDeps {
  env: EnvironmentSnapshot;
  // Filled in by the steps:
  target?: Target;
  qualifier?: string | null;
  observation?: Observation;
  plan?: Plan;
}

type Step = (ctx: StepContext) => Promise<ReconcileResult | undefined>;

const isApply = (type: PlanActionType): type is 'create' | 'update' | 'restart' => type === 'create' || type === 'update' || type === 'restart';

const refOf = (ctx: StepContext): TargetRef => ({
  id: ctx.env.identity.id,
  tenantId: ctx.env.identity.tenantId,
  repositoryId: ctx.env.identity.repositoryId,
  app: ctx.env.identity.app,
  name: ctx.env.identity.name,
  qualifier: ctx.qualifier ?? null,
});

const resolveTarget: Step = async (ctx) => {
  const resolved = ctx.targets.resolve(ctx.env.identity.target);
  if ('error' in resolved) throw new StalledError(resolved.error, { reason: REASONS.UnknownTarget });
  ctx.target = resolved.target;
  ctx.qualifier = resolved.qualifier;
  return undefined;
};

/**
 * A suspended (or uninstalled) tenant runs nothing: the target stops the environment's runtime and keeps its data,
 * and the environment is Stalled until the tenant is resumed (the store makes its environments due again then). A
 * teardown still goes ahead.
 */
const stopSuspendedTenant: Step = async (ctx) => {
  const target = ctx.target;
  if (!ctx.env.tenantSuspended || ctx.env.deletionRequested || !target) return undefined;
  const stop = target.stop?.bind(target);
  if (stop) await withTimeout(ctx.applyTimeoutMs, ctx.signal, 'stop', (signal) => stop(refOf(ctx), { signal, log: ctx.log }));
  const stopped = stop ? 'its runtime is stopped and its data kept' : `the ${target.name} target cannot stop its runtime`;
  return { kind: 'stalled', reason: REASONS.TenantSuspended, message: `the tenant is suspended: ${stopped} until the tenant is resumed` };
};

/**
 * A preview billing holds (over the plan's preview limit, or past due beyond the grace period) runs nothing: its
 * runtime is stopped, its data kept, and it is Stalled until the organization upgrades, a slot frees or it pays (the
 * store makes it due again then). Production is never held; a teardown still goes ahead.
 */
const holdForBilling: Step = async (ctx) => {
  const target = ctx.target;
  const hold = ctx.env.billingHold;
  if (!hold || ctx.env.identity.kind !== 'preview' || ctx.env.deletionRequested || !target) return undefined;
  const stop = target.stop?.bind(target);
  if (stop) await withTimeout(ctx.applyTimeoutMs, ctx.signal, 'stop', (signal) => stop(refOf(ctx), { signal, log: ctx.log }));
  return { kind: 'stalled', reason: REASONS[hold.reason], message: hold.message };
};

const checkVersion: Step = async (ctx) => {
  if (ctx.env.deletionRequested) return undefined;
  if (ctx.env.desired.spec === null || ctx.env.desired.digest === null) return { kind: 'no-version', message: 'no valid version to deploy yet' };
  return undefined;
};

const observe: Step = async (ctx) => {
  const target = ctx.target;
  if (!target) return undefined;
  try {
    ctx.observation = await withTimeout(ctx.applyTimeoutMs, ctx.signal, 'observe', (signal) => target.observe(refOf(ctx), { signal, log: ctx.log }));
  } catch (err) {
    // A target's own verdict (an API away: Waiting; credentials refused: Stalled) stands; anything else backs off.
    throw err instanceof ReconcileError ? err : new GenericError(`observe failed: ${(err as Error).message}`, { reason: REASONS.ApplyFailed, cause: err });
  }
  return undefined;
};

/**
 * A target that rolls out by itself (Kubernetes, agents) and says how it is getting on with this very generation:
 * still at it (look again soon instead of applying the same desired state again), or failed with a reason of its own,
 * which needs a user change (Stalled) or passes with retries (Degraded: the target retries, Wharf looks again with
 * backoff).
 */
const awaitTarget: Step = async (ctx) => {
  const o = ctx.observation;
  if (!o || ctx.env.deletionRequested || o.healthy || o.observedGeneration !== ctx.env.generation) return undefined;
  const stalled = findCondition(o.conditions, 'Stalled');
  if (stalled?.status === 'True') return { kind: 'stalled', reason: stalled.reason, message: stalled.message };
  const degraded = findCondition(o.conditions, 'Degraded');
  if (degraded?.status === 'True') return { kind: 'failed', reason: degraded.reason, message: degraded.message };
  const progressing = findCondition(o.conditions, 'Progressing');
  if (progressing?.status !== 'True') return undefined;
  return { kind: 'waiting', reason: REASONS.Waiting, message: progressing.message || 'the target is rolling out', retryAfterMs: 2_000, url: o.url };
};

/**
 * A target that rolls out by itself (apply answered `progressing`: Kubernetes, agents) has finished when it reports
 * the desired digest healthy while a rollout is recorded as under way: the rollout succeeded (history, Ready, the
 * deployment status), as it would have had apply waited for it. Without a recorded rollout, a digest that runs but
 * was never recorded as rolled out is such a finish too.
 */
function finishedByTarget(env: EnvironmentSnapshot, reason: PlanAction['reason']): PlanAction | null {
  if ((reason !== PLAN_REASONS.GenerationOnly && reason !== PLAN_REASONS.UpToDate) || env.desired.digest === null) return null;
  const short = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);
  const from = env.observed.digest;
  if (from !== env.desired.digest && reason === PLAN_REASONS.GenerationOnly) {
    return from === null
      ? { type: 'create', reason: PLAN_REASONS.NewEnvironment, message: `deploy ${short(env.desired.digest)}`, drift: false }
      : { type: 'update', reason: PLAN_REASONS.VersionChanged, message: `${short(from)} → ${short(env.desired.digest)}`, drift: false };
  }
  const progressing = findCondition(env.conditions, 'Progressing');
  const underWay = progressing?.status === 'True' && (progressing.reason === REASONS.Progressing || progressing.reason === REASONS.Waiting) && env.failureCount === 0;
  if (!underWay) return null;
  // The same digest rolled out again: a new generation (replicas, env) or drift put right by the target.
  const drift = reason === PLAN_REASONS.UpToDate;
  return { type: 'update', reason: drift ? PLAN_REASONS.RuntimeUnhealthy : PLAN_REASONS.GenerationOnly, message: `${short(env.desired.digest)} runs as desired again`, drift };
}

const makePlan: Step = async (ctx) => {
  const { env } = ctx;
  ctx.plan = plan(
    { generation: env.generation, digest: env.desired.digest, spec: env.desired.spec, deletionRequested: env.deletionRequested },
    { generation: env.observed.generation, digest: env.observed.digest, spec: null, runtime: ctx.observation ?? null },
    { diff: false },
  );
  const action = primaryAction(ctx.plan);
  if (action.type !== 'noop') return undefined;
  if (action.reason === PLAN_REASONS.AlreadyDeleted) return { kind: 'deleted' };
  const finished = finishedByTarget(env, action.reason);
  if (finished) return { kind: 'succeeded', action: finished, url: ctx.observation?.url ?? null };
  return { kind: 'noop', reason: action.reason, message: action.message, url: ctx.observation?.url ?? null };
};

const honourDriftMode: Step = async (ctx) => {
  const action = ctx.plan && primaryAction(ctx.plan);
  if (action?.drift && ctx.env.driftMode === 'warn') return { kind: 'drift-detected', action, url: ctx.observation?.url ?? null };
  return undefined;
};

const applyPlan: Step = async (ctx) => {
  const { env, target } = ctx;
  if (!target || !ctx.plan) return undefined;
  const action = primaryAction(ctx.plan);
  await ctx.startRollout({
    message: action.message,
    action: action.type,
    reason: action.drift ? REASONS.DriftCorrected : action.reason,
    deleting: action.type === 'delete',
  });
  if (action.type === 'delete') {
    const deleted = await withTimeout(ctx.applyTimeoutMs, ctx.signal, 'delete', (signal) => target.delete(refOf(ctx), { signal, log: ctx.log }));
    if (deleted.status === 'deleted') return { kind: 'deleted' };
    return { kind: 'waiting', reason: REASONS.TearingDown, message: deleted.message, retryAfterMs: deleted.retryAfterMs ?? 2_000 };
  }
  const type = action.type;
  if (!isApply(type) || env.desired.spec === null || env.desired.digest === null) return undefined;
  const desired: TargetEnvironment = {
    ...refOf(ctx),
    kind: env.identity.kind,
    generation: env.generation,
    digest: env.desired.digest,
    spec: env.desired.spec,
  };
  const result = await withTimeout(ctx.applyTimeoutMs, ctx.signal, 'apply', (signal) =>
    target.apply(desired, { signal, log: ctx.log, action: type }),
  );
  if (result.status === 'progressing') {
    return { kind: 'waiting', reason: REASONS.Progressing, message: result.message, retryAfterMs: result.retryAfterMs ?? 2_000, url: result.url };
  }
  return { kind: 'succeeded', action, url: result.url, message: result.message };
};

export const STEPS: readonly Step[] = [resolveTarget, stopSuspendedTenant, holdForBilling, checkVersion, observe, awaitTarget, makePlan, honourDriftMode, applyPlan];

export async function reconcileEnvironment(env: EnvironmentSnapshot, deps: ReconcileDeps): Promise<ReconcileResult> {
  const ctx: StepContext = { ...deps, env };
  try {
    for (const step of STEPS) {
      const result = await step(ctx);
      if (result) return result;
    }
    return { kind: 'noop', reason: PLAN_REASONS.UpToDate, message: 'nothing to do', url: null };
  } catch (err) {
    const c = classifyError(err);
    if (c.kind === 'stalled') return { kind: 'stalled', reason: c.reason, message: c.message };
    if (c.kind === 'waiting') return { kind: 'waiting', reason: c.reason, message: c.message, retryAfterMs: c.retryAfterMs ?? 2_000 };
    if (c.kind === 'unknown') return { kind: 'unknown', reason: c.reason, message: c.message, retryAfterMs: c.retryAfterMs ?? 60_000 };
    ctx.log.warn({ err, reason: c.reason }, 'reconcile failed');
    return { kind: 'failed', reason: c.reason, message: c.message };
  }
}
