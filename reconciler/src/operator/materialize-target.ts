/**
 * The operator's target: what `apply`, `observe` and `delete` mean in the cluster itself, for the same reconcile
 * steps the control plane runs. `observe` reads the children from the caches (no request) and reports drift (a child
 * missing, a field the operator sets changed) and the Deployment's rollout; `apply` writes only the children that are
 * missing or differ, with server-side apply (field manager `wharf-operator`, force: the operator alone owns its
 * children, so a field someone edited by hand is taken back). Deleting is the garbage collector's work (owner
 * references), so `delete` has nothing to do.
 */
import {
  type ApplyResult,
  type Condition,
  nothingRunning,
  type Observation,
  REASONS,
  type Target,
  type TargetContext,
  type TargetEnvironment,
  type ApplyContext,
  type TargetLog,
  type TargetRef,
} from '@wharf/contracts';
import { GenericError, ReconcileError } from '../errors.js';
import type { KubeApi } from '../kubernetes/kube-api.js';
import { isAlreadyExists, toReconcileError } from '../kubernetes/kube-errors.js';
import { ANNOTATIONS, FIELD_MANAGERS, LABELS } from '../kubernetes/labels.js';
import { KINDS, type KindInfo, type KubeObject } from '../kubernetes/resources.js';
import type { CachedObject, ChildCaches } from './child-caches.js';
import { cachedConfigMap } from './child-caches.js';
import { type ChildrenConfig, desiredChildren, type DesiredChildren, type WorkflowAppObject } from './children/desired-children.js';
import { driftedFields } from './children/owned-fields.js';

export const CLUSTER_TARGET = 'cluster' as const;

type Progress = { state: 'complete'; ready: number; replicas: number } | { state: 'rolling' | 'failed'; message: string; ready: number; replicas: number };

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

/** Where the Deployment's rollout stands, as `kubectl rollout status` tells it. */
export function deploymentProgress(dep: KubeObject, replicas: number): Progress {
  const st = (dep.status ?? {}) as DeploymentStatus;
  const ready = st.readyReplicas ?? 0;
  if ((dep.metadata.generation ?? 0) > (st.observedGeneration ?? 0)) return { state: 'rolling', message: 'waiting for the deployment controller', ready, replicas };
  const progressing = st.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return { state: 'failed', message: `the new version did not become ready: ${progressing.message ?? 'progress deadline exceeded'}`, ready, replicas };
  }
  const updated = st.updatedReplicas ?? 0;
  const available = st.availableReplicas ?? 0;
  const total = st.replicas ?? 0;
  if (updated >= replicas && available >= replicas && total <= replicas) return { state: 'complete', ready, replicas };
  return { state: 'rolling', message: `${updated} of ${replicas} replicas updated, ${available} available`, ready, replicas };
}

export interface MaterializeTarget extends Target {
  /** The live Deployment's replica counts, for the WorkflowApp's status. */
  replicasOf(wa: WorkflowAppObject): { replicas: number; readyReplicas: number } | null;
  /** Deletes the ConfigMaps of earlier versions but the newest one (kept for a quick rollback and old pods). */
  pruneConfigMaps(wa: WorkflowAppObject, log: TargetLog): Promise<number>;
}

export function createMaterializeTarget(options: {
  api: KubeApi;
  caches: ChildCaches;
  config: ChildrenConfig;
  /** The WorkflowApp an environment id stands for (the operator numbers the resources it sees). */
  lookup: (id: number) => WorkflowAppObject | undefined;
}): MaterializeTarget {
  const { api, caches, config } = options;
  const force = { manager: FIELD_MANAGERS.operator, force: true };

  const find = (ref: TargetRef): WorkflowAppObject | undefined => options.lookup(ref.id);
  const liveOf = (informer: ChildCaches['deployments'] | null, obj: KubeObject) => informer?.get(obj.metadata.namespace, obj.metadata.name);

  /** What differs between the desired children and the live ones; empty when nothing does. */
  const drift = (desired: DesiredChildren): { kind: string; name: string; why: string }[] => {
    const out: { kind: string; name: string; why: string }[] = [];
    const check = (kind: string, informer: ChildCaches['deployments'] | null, want: KubeObject | null) => {
      if (!want || !informer) return;
      const live = liveOf(informer, want);
      if (!live || live.metadata.deletionTimestamp) return void out.push({ kind, name: want.metadata.name, why: 'missing' });
      const fields = driftedFields(want, live);
      if (fields.length) out.push({ kind, name: want.metadata.name, why: `changed: ${fields.join(', ')}` });
    };
    const cm = liveOf(caches.configMaps, desired.configMap);
    if (!cm || cm.metadata.deletionTimestamp) out.push({ kind: 'ConfigMap', name: desired.configMap.metadata.name, why: 'missing' });
    else if (cm.dataHash !== cachedConfigMap(desired.configMap).dataHash) out.push({ kind: 'ConfigMap', name: desired.configMap.metadata.name, why: 'holds other files' });
    check('PersistentVolumeClaim', caches.volumeClaims, desired.volumeClaim);
    check('Service', caches.services, desired.service);
    check(desired.route?.kind ?? 'route', caches.routes, desired.route?.object ?? null);
    check('Deployment', caches.deployments, desired.deployment);
    return out;
  };

  const urlOf = (wa: WorkflowAppObject, desired: DesiredChildren): string | null => {
    const url = wa.metadata.annotations?.[ANNOTATIONS.url];
    return url && desired.route && liveOf(caches.routes, desired.route.object) ? url : null;
  };

  const write = async (kind: KindInfo, informer: ChildCaches['deployments'], obj: KubeObject, signal: AbortSignal) => {
    const written = await api.apply<KubeObject>(kind, obj, { ...force, signal });
    informer.upsert(written);
  };

  const applyChildren = async (env: TargetEnvironment, ctx: ApplyContext): Promise<ApplyResult> => {
    const wa = find(env);
    if (!wa) throw new GenericError('the WorkflowApp is gone', { reason: REASONS.ApplyFailed });
    const desired = desiredChildren(wa, config);
    const differs = drift(desired);
    const changed = new Set(differs.map((d) => `${d.kind}/${d.name}`));
    if (differs.length && ctx.action !== 'create') ctx.log.info({ children: differs }, 'writing children');
    if (desired.volumeClaim && changed.has(`PersistentVolumeClaim/${desired.volumeClaim.metadata.name}`)) {
      await write(KINDS.PersistentVolumeClaim, caches.volumeClaims, desired.volumeClaim, ctx.signal);
    }
    if (changed.has(`ConfigMap/${desired.configMap.metadata.name}`)) {
      const live = liveOf(caches.configMaps, desired.configMap);
      // Immutable: one holding other files under this name (made by hand) is replaced.
      if (live) await api.remove(KINDS.ConfigMap, live.metadata.namespace, live.metadata.name, { signal: ctx.signal });
      try {
        caches.configMaps.upsert(await api.create(KINDS.ConfigMap, desired.configMap, FIELD_MANAGERS.operator, ctx.signal));
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    }
    if (changed.has(`Service/${desired.service.metadata.name}`)) await write(KINDS.Service, caches.services, desired.service, ctx.signal);
    if (changed.has(`Deployment/${desired.deployment.metadata.name}`)) await write(KINDS.Deployment, caches.deployments, desired.deployment, ctx.signal);
    if (desired.route && caches.routes && changed.has(`${desired.route.kind}/${desired.route.object.metadata.name}`)) {
      await write(desired.route.kind === 'Ingress' ? KINDS.Ingress : KINDS.HTTPRoute, caches.routes, desired.route.object, ctx.signal);
    }
    if (!desired.route && caches.routes) {
      // The environment has no URL (any more): its route goes.
      const stale = caches.routes.get(wa.metadata.namespace, wa.metadata.name);
      if (stale) {
        await api.remove(config.route === 'httproute' ? KINDS.HTTPRoute : KINDS.Ingress, stale.metadata.namespace, stale.metadata.name, { signal: ctx.signal });
        caches.routes.forget(stale.metadata.namespace, stale.metadata.name);
      }
    }
    const dep = liveOf(caches.deployments, desired.deployment);
    const progress = dep ? deploymentProgress(dep, wa.spec.replicas) : { state: 'rolling' as const, message: 'creating the Deployment', ready: 0, replicas: wa.spec.replicas };
    if (progress.state === 'failed') throw new GenericError(progress.message, { reason: REASONS.RuntimeUnhealthy });
    const url = urlOf(wa, desired);
    if (progress.state === 'complete') return { status: 'ready', url };
    return { status: 'progressing', url, message: progress.message, retryAfterMs: 30_000 };
  };

  const target: MaterializeTarget = {
    name: CLUSTER_TARGET,
    capabilities: { rollout: 'rolling', applyWaitsForHealthy: false, urls: true },

    async observe(ref: TargetRef, _ctx: TargetContext): Promise<Observation> {
      const wa = find(ref);
      if (!wa) return nothingRunning();
      const desired = desiredChildren(wa, config);
      const dep = liveOf(caches.deployments, desired.deployment);
      if (!dep || dep.metadata.deletionTimestamp) return nothingRunning();
      const differs = drift(desired);
      const progress = deploymentProgress(dep, wa.spec.replicas);
      const digest = progress.state === 'complete' ? ((dep.spec as { template?: { metadata?: { annotations?: Record<string, string> } } })?.template?.metadata?.annotations?.[ANNOTATIONS.digest] ?? null) : null;
      const healthy = progress.state === 'complete' && differs.length === 0;
      const generation = Number(dep.metadata.annotations?.[ANNOTATIONS.generation]);
      const rolling: Condition[] =
        progress.state === 'rolling' && differs.length === 0
          ? [{ type: 'Progressing', status: 'True', reason: REASONS.Waiting, message: progress.message, lastTransitionTime: new Date().toISOString() }]
          : [];
      const message = differs.length ? differs.map((d) => `${d.kind} ${d.name} ${d.why}`).join('; ') : progress.state === 'complete' ? undefined : progress.message;
      return {
        exists: true,
        digest,
        healthy,
        url: urlOf(wa, desired),
        ...(message ? { message } : {}),
        observedGeneration: Number.isSafeInteger(generation) ? generation : null,
        conditions: rolling,
        instances: [{ name: `deployment/${dep.metadata.name}`, digest, healthy, message: `${progress.ready}/${progress.replicas} replicas ready`, host: dep.metadata.namespace }],
      };
    },

    async apply(env, ctx): Promise<ApplyResult> {
      try {
        return await applyChildren(env, ctx);
      } catch (err) {
        // A refusal of the API server says what it means (403: Stalled Forbidden, 422: Stalled InvalidSpec, away: Waiting).
        throw err instanceof ReconcileError ? err : toReconcileError(err);
      }
    },

    async delete() {
      return { status: 'deleted' };
    },

    replicasOf(wa) {
      const dep = caches.deployments.get(wa.metadata.namespace, wa.metadata.name);
      if (!dep) return null;
      const st = (dep.status ?? {}) as DeploymentStatus;
      return { replicas: st.replicas ?? 0, readyReplicas: st.readyReplicas ?? 0 };
    },

    async pruneConfigMaps(wa, log) {
      const current = desiredChildren(wa, config).configMap.metadata.name;
      const mine = [...caches.configMaps.list()]
        .filter((c) => c.metadata.namespace === wa.metadata.namespace && c.metadata.labels?.[LABELS.workflowApp] === wa.metadata.name && c.metadata.name !== current && !c.metadata.deletionTimestamp)
        .sort((a, b) => String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? '')) || Number(b.metadata.resourceVersion ?? 0) - Number(a.metadata.resourceVersion ?? 0));
      let pruned = 0;
      for (const old of mine.slice(1)) {
        await api.remove(KINDS.ConfigMap, old.metadata.namespace, old.metadata.name);
        caches.configMaps.forget(old.metadata.namespace, old.metadata.name);
        pruned++;
      }
      if (pruned) log.info({ pruned, kept: [current, mine[0]?.metadata.name].filter(Boolean) }, 'pruned the ConfigMaps of earlier versions');
      return pruned;
    },

    async close() {},
  };
  return target;
}

export type { CachedObject };
