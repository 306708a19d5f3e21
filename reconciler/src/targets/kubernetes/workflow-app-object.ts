/**
 * The WorkflowApp resource of an environment as the control plane applies it, and what the control plane keeps of
 * a live one in its cache (not the files: a hash of the spec), and what that says about the environment.
 */
import {
  type Condition,
  findCondition,
  nothingRunning,
  type Observation,
  parseConditions,
  REASONS,
  type TargetEnvironment,
  WORKFLOW_APP_API_VERSION,
  WORKFLOW_APP_KIND,
  type WorkflowAppStatus,
} from '@wharf/contracts';
import { contentHash } from '../../kubernetes/canonical.js';
import { ANNOTATIONS, LABELS, MANAGED_BY } from '../../kubernetes/labels.js';
import type { KubeObject, ObjectMeta } from '../../kubernetes/resources.js';

/** etcd keeps objects up to 1.5 MiB; a WorkflowApp holds the files inline, so Wharf stops at 1 MiB with a clear message. */
export const MAX_WORKFLOW_APP_BYTES = 1024 * 1024;

export interface RouteSettings {
  /** https://<host label>.<baseDomain>/; no URL (and no route) when undefined. */
  baseDomain?: string;
  urlScheme: 'https' | 'http';
  ingressClass?: string;
}

export function workflowAppObject(env: TargetEnvironment, name: string, namespace: string, url: string | null, route: RouteSettings): KubeObject {
  return {
    apiVersion: WORKFLOW_APP_API_VERSION,
    kind: WORKFLOW_APP_KIND,
    metadata: {
      name,
      namespace,
      labels: {
        [LABELS.managedBy]: MANAGED_BY.controlPlane,
        [LABELS.partOf]: 'wharf',
        [LABELS.tenant]: String(env.tenantId),
        [LABELS.app]: env.app,
        [LABELS.environment]: env.name,
        [LABELS.environmentId]: String(env.id),
        [LABELS.environmentKind]: env.kind,
      },
      annotations: {
        [ANNOTATIONS.generation]: String(env.generation),
        [ANNOTATIONS.specHash]: contentHash(env.spec),
        ...(url ? { [ANNOTATIONS.url]: url } : {}),
        ...(url && route.ingressClass ? { [ANNOTATIONS.ingressClass]: route.ingressClass } : {}),
      },
    },
    spec: env.spec as unknown as Record<string, unknown>,
  };
}

/** What the control plane's cache keeps of a WorkflowApp. */
export interface CachedWorkflowApp {
  metadata: Pick<ObjectMeta, 'name' | 'namespace' | 'uid' | 'resourceVersion' | 'generation' | 'labels' | 'annotations' | 'deletionTimestamp'>;
  /** contentHash of the live spec; differs from the spec-hash annotation when someone edited the spec by hand. */
  specHash: string;
  specDigest: string | null;
  status: WorkflowAppStatus | undefined;
}

export function cachedWorkflowApp(obj: KubeObject): CachedWorkflowApp {
  const { name, namespace, uid, resourceVersion, generation, labels, annotations, deletionTimestamp } = obj.metadata;
  const spec = obj.spec as { version?: { digest?: unknown } } | undefined;
  return {
    metadata: { name, namespace, uid, resourceVersion, generation, labels, annotations, deletionTimestamp },
    specHash: contentHash(obj.spec),
    specDigest: typeof spec?.version?.digest === 'string' ? spec.version.digest : null,
    status: obj.status as WorkflowAppStatus | undefined,
  };
}

/** True when the live WorkflowApp already says what `desired` would apply. */
export function sameAsApplied(live: CachedWorkflowApp, desired: KubeObject): boolean {
  const want = desired.metadata;
  const has = (a: Record<string, string> | undefined, b: Record<string, string> | undefined) => Object.entries(b ?? {}).every(([k, v]) => a?.[k] === v);
  const stale = Object.keys(live.metadata.annotations ?? {}).some((k) => k.startsWith('wharf.dev/') && !(k in (want.annotations ?? {})));
  return live.specHash === want.annotations?.[ANNOTATIONS.specHash] && has(live.metadata.labels, want.labels) && has(live.metadata.annotations, want.annotations) && !stale;
}

export const editedByHand = (live: CachedWorkflowApp) => live.specHash !== live.metadata.annotations?.[ANNOTATIONS.specHash];

/** The operator has acted on the live spec (its status is about this generation). */
export const operatorCaughtUp = (live: CachedWorkflowApp) => live.status?.observedGeneration !== undefined && live.status.observedGeneration === live.metadata.generation;

/** The environment as the control plane sees it through the resource's status. */
export function observationOf(live: CachedWorkflowApp | undefined, now: Date): Observation {
  if (!live) return nothingRunning();
  const status = live.status ?? {};
  const conditions = parseConditions(status.conditions);
  const wharfGeneration = Number(live.metadata.annotations?.[ANNOTATIONS.generation]);
  const base = {
    exists: true,
    digest: status.observedDigest ?? null,
    url: status.url ?? null,
    observedGeneration: Number.isSafeInteger(wharfGeneration) ? wharfGeneration : null,
    instances: [
      {
        name: `deployment/${live.metadata.name}`,
        digest: status.observedDigest ?? null,
        healthy: (status.readyReplicas ?? 0) > 0 && status.readyReplicas === status.replicas,
        message: `${status.readyReplicas ?? 0}/${status.replicas ?? 0} replicas ready`,
        host: live.metadata.namespace,
      },
    ],
  };
  if (live.metadata.deletionTimestamp) return { ...base, healthy: false, message: 'being deleted', conditions: [] };
  // A hand edit is drift whatever the operator does with it: no waiting for its rollout, Wharf puts its spec back.
  if (editedByHand(live)) return { ...base, healthy: false, message: 'the WorkflowApp was edited outside Wharf', conditions: [] };
  if (!operatorCaughtUp(live)) {
    const waiting: Condition = {
      type: 'Progressing',
      status: 'True',
      reason: REASONS.Waiting,
      message: `waiting for the operator to pick up generation ${live.metadata.generation ?? '?'}`,
      lastTransitionTime: now.toISOString(),
    };
    return { ...base, healthy: false, message: waiting.message, conditions: [waiting] };
  }
  const ready = findCondition(conditions, 'Ready');
  const healthy = ready?.status === 'True' && status.observedDigest === live.specDigest;
  return { ...base, healthy, ...(healthy ? {} : { message: ready?.message || 'not ready' }), conditions };
}
