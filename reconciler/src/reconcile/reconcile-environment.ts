/**
 * Reconcile one claimed environment as small ordered steps with one signature. A step either returns a result
 * (which ends the run) or undefined (go on); a thrown error is classified. The caller turns the result into status
 * once (summarize-status.ts).
 */
import { type HistoryReason, type Plan, type PlanActionType, PLAN_REASONS, plan, primaryAction, REASONS, type WorkflowAppSpec } from '@wharf/contracts';
import type { environments } from '@wharf/store';
import type { Logger } from 'pino';
import { classifyError, GenericError, StalledError } from '../errors.js';
import type { Observation, Target, TargetEnvironment, TargetRef } from '@wharf/contracts';
import type { TargetResolver } from '../targets/registry.js';
import type { ReconcileResult } from './result.js';

export interface ReconcileContext {
  env: environments.ClaimedEnvironment;
  targets: TargetResolver;
  log: Logger;
  signal: AbortSignal;
  applyTimeoutMs: number;
  /** Records the rollout start (Progressing, history, outbox) before the target is touched. */
  startRollout(message: string, action: PlanActionType, reason: HistoryReason, deleting: boolean): Promise<void>;
  // Filled in by the steps:
  target?: Target;
  qualifier?: string | null;
  observation?: Observation;
  plan?: Plan;
}

type Step = (ctx: ReconcileContext) => Promise<ReconcileResult | undefined>;

const ref = (ctx: ReconcileContext): TargetRef => ({
  id: ctx.env.id,
  tenantId: ctx.env.tenant_id,
  app: ctx.env.app,
  name: ctx.env.name,
  qualifier: ctx.qualifier ?? null,
});

/** Runs `fn` with a signal aborted after `ms`; rejects with ApplyTimeout when it does not settle in time. */
async function withTimeout<T>(ms: number, parent: AbortSignal, what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onParentAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new GenericError(`${what} did not finish within ${Math.round(ms / 1000)}s`, { reason: REASONS.ApplyTimeout });
      controller.abort(err);
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([fn(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
    parent.removeEventListener('abort', onParentAbort);
  }
}

const resolveTarget: Step = async (ctx) => {
  const resolved = ctx.targets.resolve(ctx.env.target);
  if ('error' in resolved) throw new StalledError(resolved.error, { reason: REASONS.UnknownTarget });
  ctx.target = resolved.target;
  ctx.qualifier = resolved.qualifier;
  return undefined;
};

const checkVersion: Step = async (ctx) => {
  if (ctx.env.deletion_requested) return undefined;
  if (ctx.env.desired_spec === null || ctx.env.desired_digest === null) {
    return { kind: 'no-version', message: 'no valid version to deploy yet' };
  }
  return undefined;
};

const observe: Step = async (ctx) => {
  const target = ctx.target;
  if (!target) return undefined;
  try {
    ctx.observation = await withTimeout(ctx.applyTimeoutMs, ctx.signal, 'observe', (signal) =>
      target.observe(ref(ctx), { signal, log: ctx.log }),
    );
  } catch (err) {
    throw err instanceof GenericError ? err : new GenericError(`observe failed: ${(err as Error).message}`, { reason: REASONS.ApplyFailed, cause: err });
  }
  return undefined;
};

const makePlan: Step = async (ctx) => {
  const env = ctx.env;
  const spec = env.desired_spec as WorkflowAppSpec | null;
  ctx.plan = plan(
    { generation: env.generation, digest: env.desired_digest, spec, deletionRequested: env.deletion_requested },
    {
      generation: env.observed_generation,
      digest: env.observed_digest,
      spec: null,
      runtime: ctx.observation ?? null,
    },
    { diff: false },
  );
  const action = primaryAction(ctx.plan);
  if (action.type !== 'noop') return undefined;
  if (action.reason === PLAN_REASONS.AlreadyDeleted) return { kind: 'deleted' };
  return { kind: 'noop', reason: action.reason, message: action.message, url: ctx.observation?.url ?? null };
};

const honourDriftMode: Step = async (ctx) => {
  const action = ctx.plan && primaryAction(ctx.plan);
  if (action?.drift && ctx.env.drift_mode === 'warn') {
    return { kind: 'drift-detected', action, url: ctx.observation?.url ?? null };
  }
  return undefined;
};

const applyPlan: Step = async (ctx) => {
  const { env, target } = ctx;
  if (!target || !ctx.plan) return undefined;
  const action = primaryAction(ctx.plan);
  await ctx.startRollout(action.message, action.type, action.drift ? REASONS.DriftCorrected : action.reason, action.type === 'delete');
  if (action.type === 'delete') {
    const deleted = await withTimeout(ctx.applyTimeoutMs, ctx.signal, 'delete', (signal) => target.delete(ref(ctx), { signal, log: ctx.log }));
    if (deleted.status === 'deleted') return { kind: 'deleted' };
    return { kind: 'waiting', reason: REASONS.TearingDown, message: deleted.message, retryAfterMs: deleted.retryAfterMs ?? 2_000 };
  }
  if (action.type === 'noop') return undefined;
  const desired: TargetEnvironment = {
    ...ref(ctx),
    kind: env.kind,
    generation: env.generation,
    digest: env.desired_digest ?? '',
    spec: env.desired_spec as WorkflowAppSpec,
  };
  const result = await withTimeout(ctx.applyTimeoutMs, ctx.signal, 'apply', (signal) =>
    target.apply(desired, { signal, log: ctx.log, action: action.type as 'create' | 'update' | 'restart' }),
  );
  if (result.status === 'progressing') {
    return { kind: 'waiting', reason: REASONS.Progressing, message: result.message, retryAfterMs: result.retryAfterMs ?? 2_000, url: result.url };
  }
  return { kind: 'succeeded', action, url: result.url, message: result.message };
};

export const STEPS: readonly Step[] = [resolveTarget, checkVersion, observe, makePlan, honourDriftMode, applyPlan];

export async function reconcileEnvironment(ctx: ReconcileContext): Promise<ReconcileResult> {
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
    ctx.log.warn({ err, reason: c.reason }, 'reconcile failed');
    return { kind: 'failed', reason: c.reason, message: c.message };
  }
}
