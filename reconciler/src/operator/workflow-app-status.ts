/**
 * A WorkflowApp resource as the reconcile steps see it (an EnvironmentSnapshot), and the status the operator writes
 * back from the snapshot the steps leave. `status.observedGeneration` is the generation the operator last acted on
 * (Kubernetes' convention, which `kubectl wait` and the control plane read); `observedDigest` the digest last rolled
 * out. While a new digest rolls out, `Ready` is False (reason Progressing): `kubectl wait --for=condition=Ready`
 * waits for the version asked for, not the one still serving.
 */
import {
  DRIFT_MODES,
  type DriftMode,
  ENVIRONMENT_KINDS,
  type EnvironmentKind,
  type EnvironmentSnapshot,
  findCondition,
  parseConditions,
  REASONS,
  setCondition,
  type WorkflowAppStatus,
} from '@wharf/contracts';
import { canonicalJson } from '../kubernetes/canonical.js';
import { ANNOTATIONS, LABELS, shortDigest } from '../kubernetes/labels.js';
import { CLUSTER_TARGET } from './materialize-target.js';
import type { WorkflowAppObject } from './children/desired-children.js';

const kindOf = (v: string | undefined): EnvironmentKind => ENVIRONMENT_KINDS.find((k) => k === v) ?? 'production';
const driftModeOf = (v: string | undefined): DriftMode => DRIFT_MODES.find((m) => m === v) ?? 'correct';

export function snapshotOf(wa: WorkflowAppObject, id: number, failureCount: number): EnvironmentSnapshot {
  const status = (wa.status ?? {}) as WorkflowAppStatus;
  const labels = wa.metadata.labels ?? {};
  return {
    identity: {
      id,
      tenantId: Number(labels[LABELS.tenant]) || 0,
      repositoryId: 0,
      app: wa.spec.app,
      name: wa.spec.environment,
      kind: kindOf(labels[LABELS.environmentKind]),
      branch: null,
      prNumber: null,
      target: CLUSTER_TARGET,
    },
    generation: wa.metadata.generation ?? 1,
    desired: { versionId: null, digest: wa.spec.version.digest, spec: wa.spec, rollbackOfVersionId: null },
    observed: { generation: status.observedGeneration ?? 0, digest: status.observedDigest ?? null, versionId: null, url: status.url ?? null },
    conditions: parseConditions(status.conditions),
    driftMode: driftModeOf(wa.metadata.annotations?.[ANNOTATIONS.driftMode]),
    deletionRequested: false,
    failureCount,
  };
}

export function statusOf(next: EnvironmentSnapshot, replicas: { replicas: number; readyReplicas: number } | null, now: Date): WorkflowAppStatus {
  let conditions = next.conditions;
  const ready = findCondition(conditions, 'Ready');
  const desired = next.desired.digest;
  if (ready?.status === 'True' && desired !== null && next.observed.digest !== desired) {
    conditions = setCondition(
      conditions,
      {
        type: 'Ready',
        status: 'False',
        reason: REASONS.Progressing,
        message: `rolling out ${shortDigest(desired)}${next.observed.digest ? `; ${shortDigest(next.observed.digest)} keeps serving` : ''}`,
      },
      now,
    );
  }
  return {
    observedGeneration: next.generation,
    ...(next.observed.digest ? { observedDigest: next.observed.digest } : {}),
    ...(next.observed.url ? { url: next.observed.url } : {}),
    ...(replicas ? { replicas: replicas.replicas, readyReplicas: replicas.readyReplicas } : {}),
    conditions: conditions.map((c) => ({ ...c })),
  };
}

export const sameStatus = (a: unknown, b: unknown) => canonicalJson(a ?? {}) === canonicalJson(b ?? {});

/**
 * The status after a reconcile that changed nothing: a condition whose status and reason are unchanged keeps the
 * message it has ("update a → b" does not become "b is running" on the next look), so a quiet WorkflowApp gets no
 * status write. Anything else (replicas, digests, a condition that changed) is the new status.
 */
export function settledStatus(next: WorkflowAppStatus, previous: WorkflowAppStatus | undefined): WorkflowAppStatus {
  const before = new Map((previous?.conditions ?? []).map((c) => [c.type, c]));
  return {
    ...next,
    conditions: (next.conditions ?? []).map((c) => {
      const old = before.get(c.type);
      return old && old.status === c.status && old.reason === c.reason ? { ...c, message: old.message, lastTransitionTime: old.lastTransitionTime } : c;
    }),
  };
}
