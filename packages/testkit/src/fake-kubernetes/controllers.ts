/**
 * What kube-controller-manager and the apiextensions server would do after a write, run asynchronously after
 * each request as they are in a cluster:
 * - garbage collection by owner references: background (dependents deleted after the owner), foreground
 *   (`foregroundDeletion` finalizer; the owner stays until its blocking dependents are gone), orphan (references
 *   removed), and dependents whose owners no longer exist (a wrong uid counts as gone, as in a real cluster);
 * - the namespace lifecycle: a deleted namespace is emptied, then removed;
 * - the deployment controller's bookkeeping: status.observedGeneration and replica counts (pods never become
 *   ready: `markDeploymentAvailable` says they did);
 * - CRDs: a created CRD is Established and its kind served; a deleted one takes its objects with it.
 */
import type { KubeApi } from './api.js';
import type { ResourceType } from './resource-types.js';
import { resourceKey, type TypeRegistry } from './type-registry.js';
import { clone, deepEqual, kubeTime, type StoredObject } from './objects.js';
import type { CrdSpec } from './crd-types.js';

interface Ref {
  type: ResourceType;
  namespace: string | undefined;
  name: string;
}

const MAX_ROUNDS = 10_000;

export class Controllers {
  /** owner uid → dependents (keyed by resource/namespace/name). */
  private readonly dependents = new Map<string, Map<string, Ref>>();
  /** uid → where the object lives, for every stored object. */
  private readonly byUid = new Map<string, Ref>();
  private readonly queue = new Map<string, Ref>();
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  api!: KubeApi;

  constructor(
    private readonly types: TypeRegistry,
    private readonly options: { deploymentsBecomeAvailable: boolean; now: () => number },
  ) {}

  private enqueue(ref: Ref): void {
    this.queue.set(`${resourceKey(ref.type)}|${ref.namespace ?? ''}|${ref.name}`, ref);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.run());
    }
  }

  /** Hook for every stored change. */
  changed(type: ResourceType, obj: StoredObject, event: 'ADDED' | 'MODIFIED' | 'DELETED'): void {
    const ref: Ref = { type, namespace: obj.metadata.namespace, name: obj.metadata.name };
    const key = `${resourceKey(type)}|${ref.namespace ?? ''}|${ref.name}`;
    for (const deps of this.dependents.values()) deps.delete(key);
    if (event === 'DELETED') {
      this.byUid.delete(obj.metadata.uid);
      for (const dep of this.dependents.get(obj.metadata.uid)?.values() ?? []) this.enqueue(dep);
      for (const owner of obj.metadata.ownerReferences ?? []) {
        const o = this.byUid.get(owner.uid);
        if (o) this.enqueue(o);
      }
      if (type.kind === 'CustomResourceDefinition' && !type.crdName) this.syncCrds(obj);
      return;
    }
    this.byUid.set(obj.metadata.uid, ref);
    for (const owner of obj.metadata.ownerReferences ?? []) {
      let deps = this.dependents.get(owner.uid);
      if (!deps) this.dependents.set(owner.uid, (deps = new Map()));
      deps.set(key, ref);
    }
    if (obj.metadata.ownerReferences?.length || obj.metadata.deletionTimestamp) this.enqueue(ref);
    if (type.kind === 'Deployment' && !type.crdName && !obj.metadata.deletionTimestamp) {
      const status = (obj.status ?? {}) as { observedGeneration?: number };
      if (status.observedGeneration !== obj.metadata.generation) this.enqueue(ref);
    }
    if (type.kind === 'CustomResourceDefinition' && !type.crdName) {
      this.syncCrds();
      this.enqueue(ref);
    }
  }

  /** Resolves when no controller work is pending (tests call it through `fake.settle()`). */
  idle(): Promise<void> {
    if (!this.scheduled && this.queue.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private syncCrds(deleted?: StoredObject): void {
    const crdType = this.types.byResource('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
    const before = new Set(this.types.all().filter((t) => t.crdName).map(resourceKey));
    this.types.syncCrds(this.api.store.list(resourceKey(crdType)));
    if (deleted) {
      const spec = deleted.spec as CrdSpec;
      const key = `${spec.group}/${spec.names.plural}`;
      if (before.has(key) && !this.types.all().some((t) => resourceKey(t) === key)) this.api.store.dropResource(key);
    }
  }

  private run(): void {
    let rounds = 0;
    while (this.queue.size > 0 && rounds++ < MAX_ROUNDS) {
      const [key, ref] = this.queue.entries().next().value as [string, Ref];
      this.queue.delete(key);
      const obj = this.api.store.get(resourceKey(ref.type), ref.namespace, ref.name);
      if (!obj) continue;
      this.reconcile(ref.type, obj);
    }
    this.scheduled = false;
    if (this.queue.size > 0) {
      this.scheduled = true;
      setImmediate(() => this.run());
      return;
    }
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private reconcile(type: ResourceType, obj: StoredObject): void {
    const builtin = !type.crdName;
    if (builtin && type.kind === 'Namespace' && obj.metadata.deletionTimestamp) return this.finishNamespace(type, obj);
    if (obj.metadata.deletionTimestamp) {
      const finalizers = obj.metadata.finalizers ?? [];
      if (finalizers.includes('orphan')) return this.orphan(type, obj);
      if (finalizers.includes('foregroundDeletion')) return this.foreground(type, obj);
      return;
    }
    if (obj.metadata.ownerReferences?.length && this.collectIfOrphaned(type, obj)) return;
    if (builtin && type.kind === 'Deployment') this.deploymentStatus(type, obj);
    if (builtin && type.kind === 'CustomResourceDefinition') this.establish(type, obj);
  }

  private dependentsOf(uid: string): { ref: Ref; obj: StoredObject }[] {
    const out: { ref: Ref; obj: StoredObject }[] = [];
    for (const ref of this.dependents.get(uid)?.values() ?? []) {
      const obj = this.api.store.get(resourceKey(ref.type), ref.namespace, ref.name);
      if (obj && obj.metadata.ownerReferences?.some((r) => r.uid === uid)) out.push({ ref, obj });
    }
    return out;
  }

  private foreground(type: ResourceType, obj: StoredObject): void {
    const deps = this.dependentsOf(obj.metadata.uid);
    for (const { ref, obj: dep } of deps) {
      if (dep.metadata.deletionTimestamp) continue;
      const policy = this.dependents.get(dep.metadata.uid)?.size ? 'Foreground' : 'Background';
      this.api.delete(ref.type, ref.namespace, ref.name, { propagationPolicy: policy, dryRun: false });
    }
    const blocking = this.dependentsOf(obj.metadata.uid).filter(({ obj: dep }) =>
      dep.metadata.ownerReferences?.some((r) => r.uid === obj.metadata.uid && r.blockOwnerDeletion),
    );
    if (blocking.length > 0) return;
    const next = clone(obj);
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== 'foregroundDeletion');
    this.api.forceWrite(type, next);
  }

  private orphan(type: ResourceType, obj: StoredObject): void {
    for (const { ref, obj: dep } of this.dependentsOf(obj.metadata.uid)) {
      const next = clone(dep);
      next.metadata.ownerReferences = (next.metadata.ownerReferences ?? []).filter((r) => r.uid !== obj.metadata.uid);
      if (!next.metadata.ownerReferences.length) delete next.metadata.ownerReferences;
      this.api.forceWrite(ref.type, next);
    }
    const next = clone(obj);
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== 'orphan');
    this.api.forceWrite(type, next);
  }

  /** Deletes a dependent whose owners are all gone; drops references to owners that are gone when some remain. */
  private collectIfOrphaned(type: ResourceType, obj: StoredObject): boolean {
    const refs = obj.metadata.ownerReferences ?? [];
    const alive = refs.filter((r) => {
      const where = this.byUid.get(r.uid);
      if (!where || where.name !== r.name || where.type.kind !== r.kind) return false;
      // A namespaced owner must be in the dependent's namespace; otherwise the reference points at nothing.
      return !where.type.namespaced || where.namespace === obj.metadata.namespace;
    });
    if (alive.length === refs.length) return false;
    if (alive.length === 0) {
      this.api.delete(type, obj.metadata.namespace, obj.metadata.name, { propagationPolicy: 'Background', dryRun: false });
      return true;
    }
    const next = clone(obj);
    next.metadata.ownerReferences = alive;
    this.api.forceWrite(type, next);
    return true;
  }

  private finishNamespace(type: ResourceType, ns: StoredObject): void {
    let remaining = 0;
    for (const t of this.types.all()) {
      if (!t.namespaced) continue;
      for (const obj of this.api.store.list(resourceKey(t), ns.metadata.name)) {
        remaining++;
        if (!obj.metadata.deletionTimestamp) this.api.delete(t, obj.metadata.namespace, obj.metadata.name, { propagationPolicy: 'Background', dryRun: false });
      }
    }
    const left = this.types.all().some((t) => t.namespaced && this.api.store.list(resourceKey(t), ns.metadata.name).length > 0);
    if (left) {
      // Objects held by finalizers: look again when they change.
      if (remaining > 0) setTimeout(() => this.enqueue({ type, namespace: undefined, name: ns.metadata.name }), 50).unref();
      return;
    }
    if ((ns.metadata.finalizers ?? []).length > 0) return;
    this.api.forceRemove(type, ns);
  }

  private deploymentStatus(type: ResourceType, obj: StoredObject): void {
    const replicas = ((obj.spec ?? {}) as { replicas?: number }).replicas ?? 1;
    const status = (obj.status ?? {}) as { observedGeneration?: number };
    if (status.observedGeneration === obj.metadata.generation) return;
    const next = clone(obj);
    next.status = this.options.deploymentsBecomeAvailable ? availableStatus(obj, replicas, this.options.now()) : progressingStatus(obj, replicas, this.options.now());
    this.api.forceWrite(type, next);
  }

  private establish(type: ResourceType, crd: StoredObject): void {
    const spec = crd.spec as CrdSpec;
    const now = kubeTime(this.options.now());
    const conditions = [
      { type: 'NamesAccepted', status: 'True', lastTransitionTime: now, reason: 'NoConflicts', message: 'no conflicts found' },
      { type: 'Established', status: 'True', lastTransitionTime: now, reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
    ];
    const status = {
      acceptedNames: { ...spec.names, singular: spec.names.singular ?? spec.names.kind.toLowerCase(), listKind: spec.names.listKind ?? `${spec.names.kind}List` },
      storedVersions: spec.versions.filter((v) => v.storage).map((v) => v.name),
      conditions,
    };
    const old = crd.status as typeof status | undefined;
    if (old && deepEqual(old.acceptedNames, status.acceptedNames) && deepEqual(old.storedVersions, status.storedVersions)) return;
    this.api.forceWrite(type, { ...clone(crd), status });
  }
}

function replicaSetName(obj: StoredObject): string {
  return `${obj.metadata.name}-${(obj.metadata.uid.replace(/-/g, '').slice(0, 10))}`;
}

function progressingStatus(obj: StoredObject, replicas: number, now: number) {
  const t = kubeTime(now);
  return {
    observedGeneration: obj.metadata.generation,
    replicas,
    updatedReplicas: replicas,
    unavailableReplicas: replicas,
    conditions: [
      { type: 'Available', status: 'False', lastUpdateTime: t, lastTransitionTime: t, reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
      { type: 'Progressing', status: 'True', lastUpdateTime: t, lastTransitionTime: t, reason: 'ReplicaSetUpdated', message: `ReplicaSet "${replicaSetName(obj)}" is progressing.` },
    ],
  };
}

export function availableStatus(obj: StoredObject, replicas: number, now: number) {
  const t = kubeTime(now);
  return {
    observedGeneration: obj.metadata.generation,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    conditions: [
      { type: 'Available', status: 'True', lastUpdateTime: t, lastTransitionTime: t, reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
      { type: 'Progressing', status: 'True', lastUpdateTime: t, lastTransitionTime: t, reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${replicaSetName(obj)}" has successfully progressed.` },
    ],
  };
}
