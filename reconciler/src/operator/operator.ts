/**
 * The in-cluster operator: watches WorkflowApps and the children it owns (informers: list+watch, bookmarks, 410 →
 * relist, backoff), and for each WorkflowApp runs the same reconcile steps as the control plane, on a snapshot made
 * from the resource, with the cluster itself as the target (materialize-target.ts); then writes the status through
 * the status subresource, conditional on the resourceVersion it read and retried on conflict. Level-triggered: any
 * change to a WorkflowApp or one of its children wakes it, and every WorkflowApp is looked at again each resync from
 * the caches; a deleted child is created again and an edited field put back (drift, logged). With leader election,
 * only the replica holding the Lease watches and writes.
 */
import {
  type Target,
  type TargetLog,
  type WorkflowAppStatus,
} from '@wharf/contracts';
import { Counter, Gauge, type Registry } from 'prom-client';
import { applyStatusUpdate } from '../reconcile/apply-status.js';
import { reconcileEnvironment } from '../reconcile/reconcile-environment.js';
import { RESULT_LABELS } from '../reconcile/result.js';
import { summarizeOutcome } from '../reconcile/summarize-status.js';
import { createInformer, type Informer, withoutManagedFields } from '../kubernetes/informer.js';
import type { KubeApi } from '../kubernetes/kube-api.js';
import { isConflict } from '../kubernetes/kube-errors.js';
import { FIELD_MANAGERS } from '../kubernetes/labels.js';
import { KINDS, type KubeObject } from '../kubernetes/resources.js';
import { createChildCaches, type ChildCaches } from './child-caches.js';
import type { ChildrenConfig, WorkflowAppObject } from './children/desired-children.js';
import { createLeaderElection, type LeaderElection } from './leader-election.js';
import { CLUSTER_TARGET, createMaterializeTarget, type MaterializeTarget } from './materialize-target.js';
import { createWorkQueue, type WorkQueue } from './work-queue.js';
import { sameStatus, settledStatus, snapshotOf, statusOf } from './workflow-app-status.js';

export interface OperatorOptions {
  api: KubeApi;
  config: ChildrenConfig;
  log: TargetLog;
  /** WorkflowApps reconciled at once. Default 8. */
  concurrency?: number;
  /** Every WorkflowApp is looked at again within this period (from the caches). Default 5 min. */
  resyncMs?: number;
  /**
   * Off (null) in tests that run one operator; the deployable always elects. `api`: a connection of its own for the
   * Lease, so that renewals never wait behind a queue of reconcile requests (default: `api`).
   */
  leaderElection?: { namespace: string; name: string; identity: string; leaseSeconds: number; api?: KubeApi } | null;
  /** Called when this replica loses the Lease after holding it (the deployable exits, as controller-runtime does). */
  onLostLeadership?: () => void;
  applyTimeoutMs?: number;
  registry?: Registry;
  now?: () => Date;
  random?: () => number;
}

export interface Operator {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once nothing is queued or running (work delayed more than `horizonMs` ahead does not count). */
  idle(horizonMs?: number): Promise<void>;
  readonly isLeader: boolean;
  /** True once the caches are filled (readiness). */
  readonly synced: boolean;
}

const keyOf = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

function metricsOf(registry: Registry | undefined) {
  const registers = registry ? [registry] : [];
  return {
    reconciles: new Counter({ name: 'wharf_operator_reconcile_total', help: 'WorkflowApp reconciles by result.', labelNames: ['result'] as const, registers }),
    drift: new Counter({ name: 'wharf_operator_drift_corrections_total', help: 'Children put back after a deletion or a hand edit.', registers }),
    statusConflicts: new Counter({ name: 'wharf_operator_status_conflicts_total', help: 'Status writes retried after a 409 Conflict.', registers }),
    leader: new Gauge({ name: 'wharf_operator_leader', help: '1 while this replica holds the Lease.', registers }),
    workflowApps: new Gauge({ name: 'wharf_operator_workflowapps', help: 'WorkflowApps in the cache.', registers }),
  };
}

export function createOperator(options: OperatorOptions): Operator {
  const { api, config, log } = options;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const resyncMs = options.resyncMs ?? 5 * 60_000;
  const metrics = metricsOf(options.registry);
  const abort = new AbortController();
  const ids = new Map<string, number>();
  const byId = new Map<number, string>();
  const failures = new Map<string, number>();
  let nextId = 1;
  let running: { workflowApps: Informer<WorkflowAppObject>; caches: ChildCaches; queue: WorkQueue; materializer: MaterializeTarget; resync: NodeJS.Timeout } | null = null;
  let starting: Promise<void> | null = null;
  let synced = false;
  let election: LeaderElection | null = null;
  let stopping = false;

  const idOf = (uid: string, key: string) => {
    let id = ids.get(uid);
    if (id === undefined) {
      id = nextId++;
      ids.set(uid, id);
    }
    byId.set(id, key);
    return id;
  };

  const writeStatus = async (wa: WorkflowAppObject, status: Record<string, unknown>, wlog: TargetLog, queue: WorkQueue) => {
    const { namespace, name } = wa.metadata;
    // A merge patch: keys the new status no longer has are removed with null.
    const patch: Record<string, unknown> = { ...status };
    for (const k of Object.keys((wa.status as Record<string, unknown> | undefined) ?? {})) if (!(k in patch)) patch[k] = null;
    let resourceVersion = wa.metadata.resourceVersion;
    for (let attempt = 1; ; attempt++) {
      try {
        const written = await api.patchStatus<WorkflowAppObject>(KINDS.WorkflowApp, namespace!, name, patch, { manager: FIELD_MANAGERS.operator, resourceVersion, signal: abort.signal });
        running?.workflowApps.upsert(written);
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 5) throw err;
        metrics.statusConflicts.inc();
        const fresh = await api.get<WorkflowAppObject>(KINDS.WorkflowApp, namespace, name, abort.signal);
        if (!fresh) return;
        if (fresh.metadata.generation !== wa.metadata.generation) {
          // The spec moved on meanwhile: that generation is reconciled instead of writing this one's status.
          wlog.info({ generation: fresh.metadata.generation }, 'status not written: a newer generation arrived');
          queue.add(keyOf(namespace, name));
          return;
        }
        resourceVersion = fresh.metadata.resourceVersion;
      }
    }
  };

  const reconcile = async (key: string) => {
    if (!running) return;
    const { workflowApps, queue, materializer } = running;
    const [namespace, name] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    const wa = workflowApps.get(namespace, name);
    if (!wa || wa.metadata.deletionTimestamp || !wa.metadata.uid) {
      // Gone or going: the garbage collector removes its children (owner references).
      return;
    }
    const uid = wa.metadata.uid;
    const snapshot = snapshotOf(wa, idOf(uid, key), failures.get(uid) ?? 0);
    const wlog = log.child({ namespace, workflowApp: name, generation: snapshot.generation });
    const targets = { resolve: (target: string) => (target === CLUSTER_TARGET ? { target: materializer as Target, qualifier: null } : { error: `unknown target ${target}` }) };
    const result = await reconcileEnvironment(snapshot, { targets, log: wlog, signal: abort.signal, applyTimeoutMs: options.applyTimeoutMs ?? 30_000, startRollout: async () => {} });
    metrics.reconciles.inc({ result: RESULT_LABELS[result.kind] });
    const update = summarizeOutcome(snapshot, result, { now: now(), resyncMs, random });
    const next = applyStatusUpdate(snapshot, update) ?? snapshot;
    failures.set(uid, next.failureCount);
    if (result.kind === 'succeeded' && result.action.drift) {
      metrics.drift.inc();
      wlog.warn({ drift: true, reason: result.action.reason, detail: result.action.message }, 'drift corrected: the children were put back');
    }
    if (result.kind === 'drift-detected') wlog.warn({ drift: true, detail: result.action.message }, 'drift detected and left alone (drift mode warn)');
    if (result.kind === 'stalled' || result.kind === 'failed') wlog.warn({ reason: result.reason, detail: result.message }, result.kind === 'stalled' ? 'stalled' : 'reconcile failed');
    if (result.kind === 'succeeded' || result.kind === 'noop') await materializer.pruneConfigMaps(wa, wlog).catch((err) => wlog.warn({ err }, 'pruning old ConfigMaps failed'));
    const fresh = statusOf(next, materializer.replicasOf(wa), now());
    const status = result.kind === 'noop' ? settledStatus(fresh, wa.status as WorkflowAppStatus | undefined) : fresh;
    if (!sameStatus(status, wa.status)) await writeStatus(wa, status as unknown as Record<string, unknown>, wlog, queue);
    if (update.nextAttemptInMs !== null) {
      // Child events wake a rollout in progress; the timer is only a safety net.
      queue.add(key, result.kind === 'waiting' ? Math.max(update.nextAttemptInMs, 15_000) : update.nextAttemptInMs);
    }
  };

  const startControllers = async () => {
    const queue = createWorkQueue({
      concurrency: options.concurrency ?? 8,
      process: (key) => reconcile(key),
      onError: (key, err) => {
        log.warn({ err, workflowApp: key }, 'reconcile error');
        running?.queue.add(key, 5_000);
      },
    });
    const caches = createChildCaches({ api, route: config.route, log, onChange: (owner) => queue.add(keyOf(owner.namespace, owner.name)) });
    const workflowApps = createInformer<WorkflowAppObject>({
      api,
      kind: KINDS.WorkflowApp,
      transform: (o) => withoutManagedFields(o) as WorkflowAppObject,
      log,
      onChange: (type, obj, old) => {
        metrics.workflowApps.set(running?.workflowApps.size ?? 0);
        const key = keyOf(obj.metadata.namespace, obj.metadata.name);
        if (type === 'deleted') {
          const uid = obj.metadata.uid;
          if (uid) {
            byId.delete(ids.get(uid) ?? -1);
            ids.delete(uid);
            failures.delete(uid);
          }
          return;
        }
        // Its own status writes come back as events too: only a change of spec or metadata is new work.
        const meta = (o: KubeObject | undefined) => o && JSON.stringify([o.metadata.generation, o.metadata.labels, o.metadata.annotations, o.metadata.deletionTimestamp]);
        if (type === 'added' || meta(obj) !== meta(old)) queue.add(key);
      },
    });
    const materializer = createMaterializeTarget({ api, caches, config, lookup: (id) => {
      const key = byId.get(id);
      if (!key) return undefined;
      return running?.workflowApps.get(key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1));
    } });
    const resync = setInterval(() => {
      for (const wa of workflowApps.list()) queue.add(keyOf(wa.metadata.namespace, wa.metadata.name), Math.floor(random() * resyncMs * 0.25));
    }, resyncMs);
    resync.unref();
    running = { workflowApps, caches, queue, materializer, resync };
    await Promise.all([workflowApps.start(abort.signal), ...caches.all.map((i) => i.start(abort.signal))]);
    synced = true;
    log.info({ workflowApps: workflowApps.size }, 'operator caches filled');
    for (const wa of workflowApps.list()) queue.add(keyOf(wa.metadata.namespace, wa.metadata.name));
  };

  const stopControllers = async () => {
    const r = running;
    if (!r) return;
    running = null;
    synced = false;
    clearInterval(r.resync);
    await r.queue.stop();
    await Promise.all([r.workflowApps.stop(), ...r.caches.all.map((i) => i.stop())]);
  };

  return {
    async start() {
      if (!options.leaderElection) {
        starting = startControllers();
        return starting;
      }
      election = createLeaderElection({
        ...options.leaderElection,
        api: options.leaderElection.api ?? api,
        log,
        onStartedLeading: () => {
          metrics.leader.set(1);
          starting = startControllers().catch((err) => log.error({ err }, 'operator failed to start'));
        },
        onStoppedLeading: () => {
          metrics.leader.set(0);
          void stopControllers().then(() => {
            if (!stopping) options.onLostLeadership?.();
          });
        },
      });
      election.start();
    },
    async stop() {
      stopping = true;
      abort.abort();
      await starting?.catch(() => undefined);
      await stopControllers();
      await election?.stop();
    },
    async idle(horizonMs = 1_000) {
      await starting;
      if (running) await running.queue.idle(horizonMs);
    },
    get isLeader() {
      return options.leaderElection ? (election?.isLeader ?? false) : true;
    },
    get synced() {
      return synced;
    },
  };
}
