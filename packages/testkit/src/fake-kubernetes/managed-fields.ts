/**
 * Server-side apply and field ownership (what kube-apiserver's fieldmanager does): `apply()` merges an applied
 * configuration into the live object, refuses fields another manager owns with a different value (409 naming the
 * manager and the fields) unless forced, removes fields the manager applied before and no longer applies, and
 * records the manager's field set in `metadata.managedFields`. `recordUpdate()` gives the writer of a PUT or a
 * non-apply PATCH the fields it changed, taking them from other managers.
 */
import { applyConflict, type StatusCause } from './status.js';
import { collect, compare, fromFieldsV1, intersect, minus, ownsUnder, isUnder, pathString, toFieldsV1, union, itemKey, type FieldSet, type PathElement } from './field-set.js';
import type { ResourceType } from './resource-types.js';
import { clone, deepEqual, isPlainObject, kubeTime, type KubeObject, type ManagedFieldsEntry } from './objects.js';

const METADATA_SKIPPED = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink']);

/** Which part of the object a request may touch: the main resource or its status subresource. */
export type Part = 'main' | 'status';

function skipper(type: ResourceType, part: Part) {
  return (elements: readonly PathElement[]): boolean => {
    const first = elements[0];
    if (!first || !('f' in first)) return false;
    if (first.f === 'apiVersion' || first.f === 'kind') return true;
    if (first.f === 'metadata') {
      if (part === 'status') return true;
      const second = elements[1];
      return Boolean(second && 'f' in second && METADATA_SKIPPED.has(second.f));
    }
    if (!type.statusSubresource) return false;
    return part === 'status' ? first.f !== 'status' : first.f === 'status';
  };
}

export const fieldSetOf = (obj: KubeObject, type: ResourceType, part: Part): FieldSet =>
  collect(obj, { listType: type.listType, skip: skipper(type, part) });

/** The identity SMD keys managers by: name, operation and subresource (not time, not apiVersion). */
const identity = (e: Pick<ManagedFieldsEntry, 'manager' | 'operation' | 'subresource'>) => `${e.manager}\u0000${e.operation}\u0000${e.subresource ?? ''}`;

function printManager(e: ManagedFieldsEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion}`;
  return s;
}

function conflictError(conflicts: { entry: ManagedFieldsEntry; path: string }[]) {
  const causes: StatusCause[] = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.entry)}`, field: c.path }));
  if (conflicts.length === 1) {
    const [c] = conflicts;
    return applyConflict(causes, `Apply failed with 1 conflict: conflict with ${printManager(c!.entry)}: ${c!.path}`);
  }
  const byManager = new Map<string, { entry: ManagedFieldsEntry; paths: string[] }>();
  for (const c of conflicts) {
    const key = identity(c.entry);
    const slot = byManager.get(key) ?? { entry: c.entry, paths: [] };
    slot.paths.push(c.path);
    byManager.set(key, slot);
  }
  const lines: string[] = [];
  for (const slot of [...byManager.values()].sort((a, b) => (identity(a.entry) < identity(b.entry) ? -1 : 1))) {
    lines.push(`conflicts with ${printManager(slot.entry)}:`);
    for (const p of slot.paths) lines.push(`- ${p}`);
  }
  return applyConflict(causes, `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`);
}

function mergeValue(live: unknown, applied: unknown, names: string[], type: ResourceType): unknown {
  if (isPlainObject(applied) && isPlainObject(live)) {
    const out: Record<string, unknown> = { ...live };
    for (const [k, v] of Object.entries(applied)) {
      if (v === null) delete out[k];
      else out[k] = mergeValue(live[k], v, [...names, k], type);
    }
    return out;
  }
  if (Array.isArray(applied) && Array.isArray(live)) {
    const lt = type.listType(names);
    if (lt.type === 'set') return [...live, ...applied.filter((a) => !live.some((l) => deepEqual(l, a)))];
    if (lt.type === 'map' && applied.every(isPlainObject) && live.every(isPlainObject)) {
      const keyOf = (item: Record<string, unknown>) => JSON.stringify(itemKey(item, lt.keys));
      const out = live.map((l) => {
        const match = applied.find((a) => keyOf(a) === keyOf(l));
        return match ? mergeValue(l, match, names, type) : l;
      });
      for (const a of applied) if (!live.some((l) => keyOf(l) === keyOf(a))) out.push(clone(a));
      return out;
    }
  }
  return clone(applied);
}

/** Removes one path from `obj` (a field, a map-list item by key, or a set value). */
function removePath(obj: unknown, elements: readonly PathElement[], listKeys: (names: string[]) => string[]): void {
  let node: unknown = obj;
  const names: string[] = [];
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i]!;
    const last = i === elements.length - 1;
    if ('f' in e) {
      if (!isPlainObject(node)) return;
      if (last) {
        delete node[e.f];
        return;
      }
      names.push(e.f);
      node = node[e.f];
    } else if (Array.isArray(node)) {
      const keys = listKeys(names);
      const index = node.findIndex((item) =>
        'k' in e ? isPlainObject(item) && JSON.stringify(itemKey(item, keys)) === JSON.stringify(e.k) : 'v' in e ? deepEqual(item, e.v) : false,
      );
      if (index < 0) return;
      if (last) {
        node.splice(index, 1);
        return;
      }
      node = node[index];
    } else {
      return;
    }
  }
}

export interface ApplyRequest {
  live: KubeObject | undefined;
  applied: KubeObject;
  manager: string;
  force: boolean;
  part: Part;
  apiVersion: string;
  now: number;
}

function entriesOf(obj: KubeObject | undefined): ManagedFieldsEntry[] {
  return clone(obj?.metadata?.managedFields ?? []);
}

function setEntry(entries: ManagedFieldsEntry[], entry: Omit<ManagedFieldsEntry, 'fieldsV1' | 'fieldsType'>, set: FieldSet, now: number): ManagedFieldsEntry[] {
  const others = entries.filter((e) => identity(e) !== identity(entry));
  const previous = entries.find((e) => identity(e) === identity(entry));
  if (set.size === 0) return others;
  const fieldsV1 = toFieldsV1(set);
  const unchanged = previous && deepEqual(previous.fieldsV1, fieldsV1) && previous.apiVersion === entry.apiVersion;
  const next: ManagedFieldsEntry = {
    manager: entry.manager,
    operation: entry.operation,
    apiVersion: entry.apiVersion,
    time: unchanged ? previous.time : kubeTime(now),
    fieldsType: 'FieldsV1',
    fieldsV1,
    ...(entry.subresource ? { subresource: entry.subresource } : {}),
  };
  // Keep the manager's place in the list, as the API server does.
  const at = entries.findIndex((e) => identity(e) === identity(entry));
  if (at < 0) return [...others, next];
  const copy = [...entries];
  copy[at] = next;
  return copy;
}

/** Server-side apply. Returns the new object with its managedFields; throws a 409 Status on conflicts. */
export function apply(req: ApplyRequest, type: ResourceType): KubeObject {
  const { live, applied, part } = req;
  const subresource = part === 'status' ? 'status' : undefined;
  const me = { manager: req.manager, operation: 'Apply' as const, apiVersion: req.apiVersion, subresource };
  const entries = entriesOf(live);
  const appliedSet = fieldSetOf(applied, type, part);
  // Only the part the request may write is merged: status from a main-resource apply (and the rest from a status apply) is ignored.
  const liveObj: KubeObject = clone(live ?? { apiVersion: applied.apiVersion, kind: applied.kind, metadata: {} });
  const input = restrictTo(applied, type, part);
  let merged = mergeValue(liveObj, input, [], type) as KubeObject;
  merged.metadata = { ...(merged.metadata ?? {}), managedFields: liveObj.metadata?.managedFields ?? [] };

  const liveSet = fieldSetOf(liveObj, type, part);
  const mergedSet = fieldSetOf(merged, type, part);
  const changed = compare(liveSet, mergedSet);
  const touched = intersect(union(changed.modified, changed.added), appliedSet);
  const conflicts: { entry: ManagedFieldsEntry; path: string }[] = [];
  const isMe = (e: ManagedFieldsEntry) => identity(e) === identity(me);
  let kept = entries;
  if (!req.force) {
    for (const entry of entries.filter((e) => !isMe(e))) {
      const owned = fromFieldsV1(entry.fieldsV1);
      for (const key of intersect(owned, touched).keys()) conflicts.push({ entry, path: key });
    }
    if (conflicts.length) throw conflictError(conflicts);
  } else {
    kept = entries
      .map((e) => (isMe(e) ? e : { ...e, fieldsV1: toFieldsV1(minus(fromFieldsV1(e.fieldsV1), touched)) }))
      .filter((e) => isMe(e) || Object.keys(e.fieldsV1).length > 0);
  }

  // Fields this manager applied before and no longer applies go, unless another manager owns them.
  const previous = entries.find(isMe);
  if (previous) {
    const othersOwn = union(...kept.filter((e) => !isMe(e)).map((e) => fromFieldsV1(e.fieldsV1)));
    const dropped = [...minus(fromFieldsV1(previous.fieldsV1), appliedSet).values()].sort((a, b) => a.elements.length - b.elements.length);
    const removed: string[] = [];
    for (const p of dropped) {
      const key = pathString(p.elements);
      if (removed.some((r) => isUnder(key, r))) continue;
      if (ownsUnder(othersOwn, key)) continue;
      removePath(merged, p.elements, (names) => {
        const lt = type.listType(names);
        return lt.type === 'map' ? lt.keys : [];
      });
      removed.push(key);
    }
  }
  merged = { ...merged, metadata: { ...merged.metadata, managedFields: setEntry(kept, me, appliedSet, req.now) } };
  return merged;
}

/** Keeps only the fields a request on `part` may write (the rest of a status write, or status in a main write, is ignored). */
export function restrictTo(obj: KubeObject, type: ResourceType, part: Part): KubeObject {
  if (!type.statusSubresource) return obj;
  if (part === 'status') return { apiVersion: obj.apiVersion, kind: obj.kind, metadata: {}, ...(obj.status !== undefined ? { status: obj.status } : {}) };
  const { status: _s, ...rest } = obj;
  return rest;
}

export interface UpdateRequest {
  live: KubeObject;
  next: KubeObject;
  manager: string;
  part: Part;
  apiVersion: string;
  now: number;
}

/** A PUT or non-apply PATCH: the writer takes the fields it changed; removed fields leave every manager. */
export function recordUpdate(req: UpdateRequest, type: ResourceType): KubeObject {
  const subresource = req.part === 'status' ? 'status' : undefined;
  const me = { manager: req.manager, operation: 'Update' as const, apiVersion: req.apiVersion, subresource };
  const entries = entriesOf(req.live);
  const diff = compare(fieldSetOf(req.live, type, req.part), fieldSetOf(req.next, type, req.part));
  const changed = union(diff.added, diff.modified);
  const gone = union(changed, diff.removed);
  const isMe = (e: ManagedFieldsEntry) => identity(e) === identity(me);
  const stripped = entries
    .map((e) => (isMe(e) ? e : { ...e, fieldsV1: toFieldsV1(minus(fromFieldsV1(e.fieldsV1), gone)) }))
    .filter((e) => isMe(e) || Object.keys(e.fieldsV1).length > 0);
  const previous = entries.find(isMe);
  const mine = minus(union(previous ? fromFieldsV1(previous.fieldsV1) : new Map(), changed), diff.removed);
  return { ...req.next, metadata: { ...req.next.metadata, managedFields: changed.size || previous ? setEntry(stripped, me, mine, req.now) : stripped } };
}
