/**
 * The kubernetes target: each environment is one WorkflowApp resource (wharf.dev/v1alpha1), server-side applied with
 * field manager `wharf` in its tenant's namespace; the in-cluster operator (reconciler --operator) runs it and writes
 * its status, which is what `observe` reads. `kubernetes` uses the kubeconfig's current context (or in-cluster
 * credentials); `kubernetes:<cluster>` the context of that name.
 *
 * Reads come from one informer per cluster (list+watch of the WorkflowApps Wharf manages), so observing an
 * environment costs no request and an idle Wharf only keeps its watch open. Writes: the WorkflowApp when what Wharf
 * would apply differs from what is there; the tenant's namespace, quota and limits once per process and plan.
 */
import {
  type BillingPlanId,
  type DeleteResult,
  findCondition,
  type Observation,
  parseConditions,
  REASONS,
  type Target,
  type TargetContext,
  type TargetEnvironment,
  type TargetLog,
  type TargetRef,
} from '@wharf/contracts';
import { GenericError, ReconcileError, StalledError, WaitingError } from '../../errors.js';
import { connectCluster, type ClusterConnection } from '../../kubernetes/cluster-connection.js';
import { createInformer, type Informer } from '../../kubernetes/informer.js';
import { isConflict, isNotFound, toReconcileError } from '../../kubernetes/kube-errors.js';
import { KubeconfigError } from '../../kubernetes/kubeconfig.js';
import { FIELD_MANAGERS, LABELS, MANAGED_BY, shortDigest } from '../../kubernetes/labels.js';
import { hostLabel, tenantNamespace, workflowAppName } from '../../kubernetes/names.js';
import { KINDS, type KubeObject } from '../../kubernetes/resources.js';
import { planOf, tenantNamespaceObjects } from './tenant-namespace.js';
import {
  type CachedWorkflowApp,
  cachedWorkflowApp,
  editedByHand,
  MAX_WORKFLOW_APP_BYTES,
  observationOf,
  operatorCaughtUp,
  type RouteSettings,
  sameAsApplied,
  workflowAppObject,
} from './workflow-app-object.js';

export interface KubernetesTargetSettings {
  /** A kubeconfig file, or `in-cluster`. */
  kubeconfig: string;
  /** Tenant namespaces are `<prefix>t<tenant id>`. */
  namespacePrefix: string;
  baseDomain?: string;
  ingressClass?: string;
  urlScheme?: 'https' | 'http';
  /** The tenant's plan (tenants.plan) for its namespace's quota; unknown or missing: free. */
  tenantPlan?: (tenantId: number) => Promise<string | null>;
  /** Requests in flight per cluster. Default 32. */
  maxConcurrent?: number;
  log: TargetLog;
  now?: () => Date;
}

export interface KubernetesTarget extends Target {
  /** The WorkflowApp name and namespace of an environment. */
  locate(ref: Pick<TargetRef, 'tenantId' | 'app' | 'name'>): { name: string; namespace: string };
}

interface Cluster {
  conn: ClusterConnection;
  informer: Informer<CachedWorkflowApp>;
  /** Namespaces set up by this process, with the plan they were set up for. */
  namespaces: Map<string, BillingPlanId>;
}

const PLAN_CACHE_MS = 60_000;

export function createKubernetesTarget(settings: KubernetesTargetSettings): KubernetesTarget {
  const log = settings.log;
  const now = settings.now ?? (() => new Date());
  const route: RouteSettings = { baseDomain: settings.baseDomain, urlScheme: settings.urlScheme ?? 'https', ingressClass: settings.ingressClass };
  const clusters = new Map<string, Promise<Cluster>>();
  const plans = new Map<number, { plan: BillingPlanId; at: number }>();

  const cluster = (qualifier: string | null): Promise<Cluster> => {
    const key = qualifier ?? '';
    let c = clusters.get(key);
    if (!c) {
      c = (async () => {
        const conn = await connectCluster(settings.kubeconfig, qualifier, log, { maxConcurrent: settings.maxConcurrent });
        const informer = createInformer<CachedWorkflowApp>({
          api: conn.api,
          kind: KINDS.WorkflowApp,
          labelSelector: `${LABELS.managedBy}=${MANAGED_BY.controlPlane}`,
          transform: cachedWorkflowApp,
          log: log.child({ cluster: qualifier ?? 'default' }),
        });
        void informer.start().catch(() => undefined);
        return { conn, informer, namespaces: new Map() };
      })();
      clusters.set(key, c);
      c.catch(() => clusters.delete(key));
    }
    return c;
  };

  /** The cluster, its cache filled; a cache that cannot be filled says why (unreachable: Waiting; RBAC: Stalled). */
  const ready = async (qualifier: string | null, signal: AbortSignal): Promise<Cluster> => {
    let c: Cluster;
    try {
      c = await cluster(qualifier);
    } catch (err) {
      if (err instanceof KubeconfigError) throw new StalledError(err.message, { reason: REASONS.UnknownTarget, cause: err });
      throw err;
    }
    while (!c.informer.synced) {
      if (c.informer.lastError) throw toReconcileError(c.informer.lastError);
      if (signal.aborted) throw new WaitingError('the WorkflowApp cache is not filled yet', { reason: REASONS.ApiUnavailable });
      await new Promise((r) => setTimeout(r, 50));
    }
    if (c.informer.lastError) throw toReconcileError(c.informer.lastError);
    return c;
  };

  const locate = (ref: Pick<TargetRef, 'tenantId' | 'app' | 'name'>) => ({
    name: workflowAppName(ref.app, ref.name),
    namespace: tenantNamespace(settings.namespacePrefix, ref.tenantId),
  });

  const planFor = async (tenantId: number): Promise<BillingPlanId> => {
    const cached = plans.get(tenantId);
    if (cached && Date.now() - cached.at < PLAN_CACHE_MS) return cached.plan;
    const plan = planOf(settings.tenantPlan ? await settings.tenantPlan(tenantId) : null);
    plans.set(tenantId, { plan, at: Date.now() });
    return plan;
  };

  /**
   * The tenant's namespace, quota and limits. Applied with force: they are Wharf's decision from the plan, and a
   * quota raised by hand is exactly what must be put back.
   */
  const ensureNamespace = async (c: Cluster, tenantId: number, namespace: string, ctx: TargetContext) => {
    const plan = await planFor(tenantId);
    if (c.namespaces.get(namespace) === plan) return;
    const objects = tenantNamespaceObjects(namespace, tenantId, plan);
    const opts = { manager: FIELD_MANAGERS.controlPlane, force: true, signal: ctx.signal };
    await c.conn.api.apply(KINDS.Namespace, objects.namespace, opts);
    await c.conn.api.apply(KINDS.LimitRange, objects.limitRange, opts);
    if (objects.quota) await c.conn.api.apply(KINDS.ResourceQuota, objects.quota, opts);
    else await c.conn.api.remove(KINDS.ResourceQuota, namespace, 'wharf-plan', { signal: ctx.signal });
    c.namespaces.set(namespace, plan);
    ctx.log.info({ namespace, tenantId, plan }, 'tenant namespace ready');
  };

  /**
   * Server-side apply without force first. A 409 naming fields another manager owns means someone changed the spec
   * by hand (kubectl edit, apply): Git is the source of truth, so Wharf takes them back with force and logs the drift.
   * A 409 without such causes (the object moved under a concurrent write) is retried. A namespace that is gone is
   * created again.
   */
  const applyWorkflowApp = async (c: Cluster, env: TargetEnvironment, desired: KubeObject, ctx: TargetContext): Promise<KubeObject> => {
    const namespace = desired.metadata.namespace!;
    let force = false;
    for (let attempt = 1; ; attempt++) {
      try {
        await ensureNamespace(c, env.tenantId, namespace, ctx);
        return await c.conn.api.apply(KINDS.WorkflowApp, desired, { manager: FIELD_MANAGERS.controlPlane, force, signal: ctx.signal });
      } catch (err) {
        if (attempt >= 5) throw err;
        if (isConflict(err)) {
          const fields = (err.status.details?.causes ?? []).filter((x) => x.reason === 'FieldManagerConflict').map((x) => `${x.field ?? '?'} (${x.message ?? ''})`);
          if (fields.length) {
            ctx.log.warn({ namespace, name: desired.metadata.name, fields, drift: true }, 'WorkflowApp changed outside Wharf: taking its fields back (drift)');
            force = true;
          }
          continue;
        }
        if (isNotFound(err)) {
          ctx.log.warn({ namespace, drift: true }, 'tenant namespace is gone: creating it again');
          c.namespaces.delete(namespace);
          continue;
        }
        throw err;
      }
    }
  };

  /** What the live resource says about the rollout Wharf asked for. */
  const verdict = (live: CachedWorkflowApp, env: TargetEnvironment, url: string | null) => {
    const status = live.status ?? {};
    const currentUrl = status.url ?? url;
    if (operatorCaughtUp(live) && !editedByHand(live)) {
      const conditions = parseConditions(status.conditions);
      const stalled = findCondition(conditions, 'Stalled');
      if (stalled?.status === 'True') {
        throw new StalledError(`the operator cannot run it: ${stalled.message}`, { reason: stalled.reason === REASONS.Unknown ? REASONS.InvalidSpec : stalled.reason });
      }
      if (findCondition(conditions, 'Ready')?.status === 'True' && status.observedDigest === env.digest) {
        return { status: 'ready' as const, url: currentUrl };
      }
      const degraded = findCondition(conditions, 'Degraded');
      if (degraded?.status === 'True') throw new GenericError(`the operator failed: ${degraded.message}`, { reason: degraded.reason === REASONS.Unknown ? REASONS.ApplyFailed : degraded.reason });
    }
    return {
      status: 'progressing' as const,
      url: currentUrl,
      message: `WorkflowApp ${live.metadata.namespace}/${live.metadata.name} applied; the operator rolls out ${shortDigest(env.digest)}`,
      retryAfterMs: 2_000,
    };
  };

  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ReconcileError) throw err;
      if (err instanceof KubeconfigError) throw new StalledError(err.message, { reason: REASONS.UnknownTarget, cause: err });
      throw toReconcileError(err);
    }
  };

  return {
    name: 'kubernetes',
    capabilities: { rollout: 'rolling', applyWaitsForHealthy: false, urls: route.baseDomain !== undefined },
    locate,

    apply: (env, ctx) =>
      guard(async () => {
        const c = await ready(env.qualifier, ctx.signal);
        const { name, namespace } = locate(env);
        const url = route.baseDomain ? `${route.urlScheme}://${hostLabel(env.tenantId, env.app, env.name)}.${route.baseDomain}/` : null;
        const desired = workflowAppObject(env, name, namespace, url, route);
        const size = Buffer.byteLength(JSON.stringify(desired));
        if (size > MAX_WORKFLOW_APP_BYTES) {
          throw new StalledError(`the WorkflowApp of ${env.app}/${env.name} would be ${size} bytes; a Kubernetes object holds at most ${MAX_WORKFLOW_APP_BYTES} (make the workflow files smaller)`, { reason: REASONS.InvalidSpec });
        }
        let live = c.informer.get(namespace, name);
        if (!live || !sameAsApplied(live, desired)) {
          if (live && editedByHand(live)) ctx.log.warn({ namespace, name, drift: true }, 'WorkflowApp spec edited outside Wharf: reverting it (drift)');
          const applied = await applyWorkflowApp(c, env, desired, ctx);
          c.informer.upsert(applied);
          live = cachedWorkflowApp(applied);
          ctx.log.info({ namespace, name, generation: applied.metadata.generation, digest: env.digest }, 'WorkflowApp applied');
        }
        return verdict(live, env, url);
      }),

    observe: (ref, ctx): Promise<Observation> =>
      guard(async () => {
        const c = await ready(ref.qualifier, ctx.signal);
        const { name, namespace } = locate(ref);
        return observationOf(c.informer.get(namespace, name), now());
      }),

    delete: (ref, ctx): Promise<DeleteResult> =>
      guard(async () => {
        const c = await ready(ref.qualifier, ctx.signal);
        const { name, namespace } = locate(ref);
        // Foreground: the WorkflowApp stays (with a deletionTimestamp) until the garbage collector has removed the
        // children that block it, so `deleted` means nothing of the environment is left.
        const outcome = await c.conn.api.remove(KINDS.WorkflowApp, namespace, name, { propagationPolicy: 'Foreground', signal: ctx.signal });
        if (outcome === 'pending') return { status: 'pending', message: `deleting WorkflowApp ${namespace}/${name}: waiting for its children to be removed`, retryAfterMs: 1_000 };
        c.informer.forget(namespace, name);
        return { status: 'deleted' };
      }),

    async close() {
      for (const c of clusters.values()) {
        const resolved = await c.catch(() => null);
        if (!resolved) continue;
        await resolved.informer.stop();
        resolved.conn.close();
      }
      clusters.clear();
    },
  };
}

