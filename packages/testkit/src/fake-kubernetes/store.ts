/**
 * The fake's etcd: objects per resource, one global resourceVersion counter, a bounded history of watch events
 * (older versions are "compacted": a watch from there gets 410 Expired), and the open watches.
 */
import { clone, type StoredObject } from './objects.js';
import { expired } from './status.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  /** `<group>/<plural>`, e.g. `/configmaps` or `wharf.dev/workflowapps`. */
  resource: string;
  object: StoredObject;
  rv: number;
}

export interface StoreWatcher {
  resource: string;
  namespace: string | undefined;
  send(event: StoreEvent): void;
}

const keyOf = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

export class ObjectStore {
  private rv = 1000;
  private readonly objects = new Map<string, Map<string, StoredObject>>();
  private history: StoreEvent[] = [];
  /** Versions at or below this are gone from the history. */
  private compactedAt = 1000;
  readonly watchers = new Set<StoreWatcher>();

  constructor(private readonly maxHistory: number) {}

  get currentVersion(): number {
    return this.rv;
  }

  nextVersion(): string {
    this.rv += 1;
    return String(this.rv);
  }

  get(resource: string, namespace: string | undefined, name: string): StoredObject | undefined {
    const obj = this.objects.get(resource)?.get(keyOf(namespace, name));
    return obj && clone(obj);
  }

  /** Objects of a resource, in one namespace or all, sorted by namespace and name as etcd keys are. */
  list(resource: string, namespace?: string): StoredObject[] {
    const all = [...(this.objects.get(resource)?.values() ?? [])];
    return all
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .sort((a, b) => keyOf(a.metadata.namespace, a.metadata.name).localeCompare(keyOf(b.metadata.namespace, b.metadata.name)))
      .map(clone);
  }

  resources(): string[] {
    return [...this.objects.keys()];
  }

  /** Writes `obj` (its resourceVersion already set by the caller through nextVersion) and tells the watches. */
  put(resource: string, obj: StoredObject, type: 'ADDED' | 'MODIFIED'): void {
    let bucket = this.objects.get(resource);
    if (!bucket) this.objects.set(resource, (bucket = new Map()));
    bucket.set(keyOf(obj.metadata.namespace, obj.metadata.name), clone(obj));
    this.emit({ type, resource, object: clone(obj), rv: Number(obj.metadata.resourceVersion) });
  }

  remove(resource: string, obj: StoredObject): void {
    const bucket = this.objects.get(resource);
    if (!bucket?.delete(keyOf(obj.metadata.namespace, obj.metadata.name))) return;
    const rv = this.nextVersion();
    const gone = clone(obj);
    gone.metadata.resourceVersion = rv;
    this.emit({ type: 'DELETED', resource, object: gone, rv: Number(rv) });
  }

  /** Drops every stored object of a resource (its CRD was deleted); watches see DELETED for each. */
  dropResource(resource: string): void {
    for (const obj of this.list(resource)) this.remove(resource, obj);
    this.objects.delete(resource);
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > this.maxHistory) {
      const dropped = this.history.splice(0, this.history.length - this.maxHistory);
      this.compactedAt = dropped[dropped.length - 1]!.rv;
    }
    for (const w of this.watchers) {
      if (w.resource !== event.resource) continue;
      if (w.namespace !== undefined && event.object.metadata.namespace !== w.namespace) continue;
      w.send(event);
    }
  }

  /** Events of a resource after `since`; throws 410 Expired when `since` is older than the kept history. */
  eventsSince(resource: string, since: number): StoreEvent[] {
    if (since < this.compactedAt) throw expired(`too old resource version: ${since} (${this.compactedAt + 1})`);
    return this.history.filter((e) => e.resource === resource && e.rv > since);
  }

  /** Forgets all history up to now, as an etcd compaction does: every older resourceVersion becomes too old. */
  compact(): void {
    this.history = [];
    this.compactedAt = this.rv;
  }
}
