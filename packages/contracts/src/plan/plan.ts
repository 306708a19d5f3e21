/**
 * plan(desired, observed) → actions with reasons. Pure: the reconciler applies it, `wharf diff` prints it and
 * the pull request's `wharf/plan` check renders it.
 */
import { type ConfigDiff, diffConfig as diffFiles } from './config-diff.js';
import type { WorkflowAppSpec } from '../workflow-app.js';

export const PLAN_ACTIONS = ['create', 'update', 'restart', 'delete', 'noop'] as const;
export type PlanActionType = (typeof PLAN_ACTIONS)[number];

export const PLAN_REASONS = {
  /** Nothing has been deployed for this environment yet. */
  NewEnvironment: 'NewEnvironment',
  /** The desired version (digest) differs from the one last rolled out. */
  VersionChanged: 'VersionChanged',
  /** The desired state changed (new generation) with the same digest, and that digest is running. */
  GenerationOnly: 'GenerationOnly',
  /** The runtime is gone although it was rolled out: drift. */
  RuntimeMissing: 'RuntimeMissing',
  /** The runtime serves another digest than the one rolled out: drift. */
  DigestDrift: 'DigestDrift',
  /** The runtime exists but does not report healthy: drift. */
  RuntimeUnhealthy: 'RuntimeUnhealthy',
  DeletionRequested: 'DeletionRequested',
  AlreadyDeleted: 'AlreadyDeleted',
  NoVersion: 'NoVersion',
  UpToDate: 'UpToDate',
} as const;
export type PlanReason = (typeof PLAN_REASONS)[keyof typeof PLAN_REASONS];

export interface DesiredState {
  generation: number;
  /** Digest of the desired rendered state; null while the environment has no valid version. */
  digest: string | null;
  spec: WorkflowAppSpec | null;
  deletionRequested: boolean;
}

/** What the target reports about the running thing. `null` when it was not observed (e.g. `wharf diff`). */
export interface RuntimeObservation {
  exists: boolean;
  digest: string | null;
  healthy: boolean;
  message?: string;
}

export interface ObservedState {
  /** The generation last reconciled and the digest last rolled out (status). */
  generation: number;
  digest: string | null;
  /** The spec of the version last rolled out, for the config diff; null when none. */
  spec: WorkflowAppSpec | null;
  runtime: RuntimeObservation | null;
}

export interface PlanAction {
  type: PlanActionType;
  reason: PlanReason;
  message: string;
  /** True when the action corrects drift of an environment already rolled out at this generation. */
  drift: boolean;
}

export interface Plan {
  actions: PlanAction[];
  /** Config-level changes between what was rolled out and what is desired (empty for noop and delete). */
  diff: ConfigDiff;
}

const short = (digest: string | null): string => (digest ? digest.replace(/^sha256:/, '').slice(0, 12) : 'nothing');

function one(type: PlanActionType, reason: PlanReason, message: string, drift = false): PlanAction[] {
  return [{ type, reason, message, drift }];
}

export interface PlanOptions {
  /** Compute the config-level diff (default true). The reconciler skips it: only `wharf diff` and the check show it. */
  diff?: boolean;
}

export function plan(desired: DesiredState, observed: ObservedState, options: PlanOptions = {}): Plan {
  const app = desired.spec?.app ?? observed.spec?.app ?? '';
  const noDiff: ConfigDiff = { app, changes: [] };
  const withDiff = options.diff ?? true;
  const diffConfig: typeof diffFiles = (a, b, c) => (withDiff ? diffFiles(a, b, c) : noDiff);
  const runtime = observed.runtime;

  if (desired.deletionRequested) {
    if (runtime && !runtime.exists) return { actions: one('noop', PLAN_REASONS.AlreadyDeleted, 'nothing is running'), diff: noDiff };
    return {
      actions: one('delete', PLAN_REASONS.DeletionRequested, `tear down ${short(observed.digest)}`),
      diff: diffConfig(app, observed.spec?.files ?? null, null),
    };
  }
  if (!desired.spec || !desired.digest) {
    return { actions: one('noop', PLAN_REASONS.NoVersion, 'no valid version to deploy yet'), diff: noDiff };
  }

  const diff = diffConfig(app, observed.spec?.files ?? null, desired.spec.files);
  if (observed.digest !== desired.digest) {
    if (observed.digest === null && !runtime?.exists) {
      return { actions: one('create', PLAN_REASONS.NewEnvironment, `deploy ${short(desired.digest)}`), diff };
    }
    if (runtime?.exists && runtime.healthy && runtime.digest === desired.digest) {
      return {
        actions: one('noop', PLAN_REASONS.GenerationOnly, `${short(desired.digest)} is already running`),
        diff: noDiff,
      };
    }
    const type = runtime && !runtime.exists ? 'create' : 'update';
    return {
      actions: one(type, PLAN_REASONS.VersionChanged, `${short(observed.digest)} → ${short(desired.digest)}`),
      diff,
    };
  }

  // The desired digest is the one rolled out; anything the target reports otherwise is drift.
  const atGeneration = observed.generation === desired.generation;
  if (runtime && !runtime.exists) {
    return {
      actions: one('create', PLAN_REASONS.RuntimeMissing, `runtime for ${short(desired.digest)} is not running`, atGeneration),
      diff: noDiff,
    };
  }
  if (runtime && runtime.digest !== null && runtime.digest !== desired.digest) {
    return {
      actions: one('update', PLAN_REASONS.DigestDrift, `running ${short(runtime.digest)}, want ${short(desired.digest)}`, atGeneration),
      diff: noDiff,
    };
  }
  if (runtime && !runtime.healthy) {
    return {
      actions: one('restart', PLAN_REASONS.RuntimeUnhealthy, runtime.message ?? 'runtime is not healthy', atGeneration),
      diff: noDiff,
    };
  }
  if (!atGeneration) {
    return { actions: one('noop', PLAN_REASONS.GenerationOnly, `${short(desired.digest)} is already running`), diff: noDiff };
  }
  return { actions: one('noop', PLAN_REASONS.UpToDate, `${short(desired.digest)} is running`), diff: noDiff };
}

/** The action a plan asks for; plans hold one action per environment today. */
export const primaryAction = (p: Plan): PlanAction => p.actions[0] ?? { type: 'noop', reason: PLAN_REASONS.UpToDate, message: '', drift: false };
