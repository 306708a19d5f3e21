/**
 * The resource operations behind the HTTP layer: get, list, create, update, patch (apply, merge, JSON), delete.
 * Each write goes through one `commit`: system metadata, defaults, the status subresource split, generation,
 * schema validation, optimistic concurrency, field ownership, finalizers, and the watch event.
 */
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { applyDefaults, tracksGeneration } from './defaults.js';
import { apply, recordUpdate, restrictTo, type Part } from './managed-fields.js';
import { applyNonApplyPatch, type PatchType } from './patches.js';
import { apiVersionOf, type ResourceType } from './resource-types.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  forbidden,
  invalid,
  notFound,
  OBJECT_MODIFIED,
  untypedServerError,
  type GroupResource,
} from './status.js';
import type { ObjectStore } from './store.js';
import { resourceKey, type TypeRegistry } from './type-registry.js';
import { validateObject } from './validation.js';
import { clone, deepEqual, isPlainObject, kubeTime, type KubeObject, type StoredObject } from './objects.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  manager: string;
  dryRun: boolean;
  fieldValidation: FieldValidation;
  /** Warnings for the `Warning` response header (unknown fields under `Warn`). */
  warnings: string[];
}

export type PropagationPolicy = 'Foreground' | 'Background' | 'Orphan';

export interface DeleteOptions {
  propagationPolicy?: PropagationPolicy;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun: boolean;
}

export interface ApiHooks {
  /** Called after each stored write or removal (controllers, CRD sync, GC scheduling). */
  changed(type: ResourceType, obj: StoredObject, event: 'ADDED' | 'MODIFIED' | 'DELETED'): void;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continueToken?: string;
}

const gr = (t: ResourceType): GroupResource => ({ group: t.group, resource: t.plural });
const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function stripForCompare(obj: KubeObject): unknown {
  const c = clone(obj);
  if (c.metadata) {
    delete c.metadata.resourceVersion;
    c.metadata.managedFields = (c.metadata.managedFields ?? []).map((e) => ({ ...e, time: undefined }));
  }
  return c;
}

export class KubeApi {
  private clusterIPs = 10;

  constructor(
    readonly store: ObjectStore,
    readonly types: TypeRegistry,
    private readonly hooks: ApiHooks,
    private readonly now: () => number = Date.now,
  ) {}

  get(type: ResourceType, namespace: string | undefined, name: string): StoredObject {
    const obj = this.store.get(resourceKey(type), namespace, name);
    if (!obj) throw notFound(gr(type), name);
    return obj;
  }

  list(type: ResourceType, namespace: string | undefined, options: ListOptions): { items: StoredObject[]; resourceVersion: string; continueToken?: string; remaining?: number } {
    const labels = options.labelSelector ? parseLabelSelector(options.labelSelector) : () => true;
    const fields = options.fieldSelector ? parseFieldSelector(options.fieldSelector) : () => true;
    let items = this.store.list(resourceKey(type), namespace).filter((o) => labels(o.metadata.labels ?? {}) && fields(o));
    let resourceVersion = String(this.store.currentVersion);
    if (options.continueToken) {
      let token: { rv: string; start: string };
      try {
        token = JSON.parse(Buffer.from(options.continueToken, 'base64url').toString('utf8')) as { rv: string; start: string };
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data at input byte 0');
      }
      resourceVersion = token.rv;
      items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` >= token.start);
    }
    if (options.limit && options.limit > 0 && items.length > options.limit) {
      const next = items[options.limit]!;
      const continueToken = Buffer.from(JSON.stringify({ rv: resourceVersion, start: `${next.metadata.namespace ?? ''}/${next.metadata.name}` })).toString('base64url');
      return { items: items.slice(0, options.limit), resourceVersion, continueToken, remaining: items.length - options.limit };
    }
    return { items, resourceVersion };
  }

  private requireNamespace(type: ResourceType, namespace: string | undefined, creating: boolean): void {
    if (!type.namespaced) return;
    const nsType = this.types.byResource('', 'v1', 'namespaces')!;
    const ns = this.store.get(resourceKey(nsType), undefined, namespace!);
    if (!ns) throw notFound({ group: '', resource: 'namespaces' }, namespace!);
    if (creating && ns.metadata.deletionTimestamp) {
      throw forbidden(gr(type), '', `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  /** Unknown fields: pruned (Ignore), pruned with a warning (Warn), or refused (Strict), as field validation decides. */
  private checkUnknown(type: ResourceType, body: KubeObject, options: WriteOptions): void {
    const unknown = type.unknownFields(body);
    if (!unknown.length) return;
    if (options.fieldValidation === 'Strict') {
      const list = unknown.map((f) => `unknown field "${f}"`).join(', ');
      throw badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${list}`);
    }
    if (options.fieldValidation === 'Warn') options.warnings.push(...unknown.map((f) => `unknown field "${f}"`));
    type.prune(body);
  }

  private checkIdentity(type: ResourceType, body: unknown, namespace: string | undefined, name: string | undefined): KubeObject {
    if (!isPlainObject(body)) throw badRequest(`the object provided is unrecognized (must be of type ${type.kind})`);
    const obj = body as KubeObject;
    if (obj.apiVersion !== apiVersionOf(type) || obj.kind !== type.kind) {
      if (obj.kind && obj.kind !== type.kind) throw badRequest(`the object provided is unrecognized (must be of type ${type.kind}): ${obj.kind}`);
      throw badRequest(`the API version in the data (${obj.apiVersion ?? ''}) does not match the expected API version (${apiVersionOf(type)})`);
    }
    if (obj.metadata !== undefined && !isPlainObject(obj.metadata)) throw badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: metadata must be an object`);
    const meta = obj.metadata ?? {};
    if (type.namespaced && meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (!type.namespaced && meta.namespace) throw badRequest(`${type.kind} is not namespaced: metadata.namespace must be empty`);
    if (name !== undefined && meta.name !== undefined && meta.name !== name) {
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
    return obj;
  }

  /** The one write path. `live` is undefined for a create. */
  private commit(type: ResourceType, live: StoredObject | undefined, next: KubeObject, part: Part, options: WriteOptions): StoredObject {
    const now = this.now();
    const obj = clone(next) as StoredObject;
    obj.apiVersion = apiVersionOf(type);
    obj.kind = type.kind;
    obj.metadata = { ...(obj.metadata ?? {}) } as StoredObject['metadata'];
    if (live) {
      // System fields come from the stored object; a status write cannot change the rest, nor a main write the status.
      for (const f of ['uid', 'creationTimestamp', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'name', 'namespace'] as const) {
        if (live.metadata[f] === undefined) delete obj.metadata[f];
        else (obj.metadata as Record<string, unknown>)[f] = live.metadata[f];
      }
      if (type.statusSubresource) {
        if (part === 'main') {
          if (live.status === undefined) delete obj.status;
          else obj.status = clone(live.status);
        } else {
          const merged = { ...clone(live), status: obj.status, metadata: { ...live.metadata, managedFields: obj.metadata.managedFields } } as StoredObject;
          if (obj.status === undefined) delete merged.status;
          Object.assign(obj, merged);
        }
      }
    } else {
      obj.metadata.uid = randomUUID();
      obj.metadata.creationTimestamp = kubeTime(now);
      if (type.statusSubresource) delete obj.status;
      delete obj.metadata.deletionTimestamp;
      delete obj.metadata.deletionGracePeriodSeconds;
    }
    applyDefaults(obj, type, () => `10.96.${Math.floor(this.clusterIPs / 250)}.${(this.clusterIPs++ % 250) + 1}`);
    if (tracksGeneration(type)) {
      const specOf = (o: KubeObject) => {
        const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
        return rest;
      };
      obj.metadata.generation = !live ? 1 : (live.metadata.generation ?? 1) + (deepEqual(specOf(live), specOf(obj)) ? 0 : 1);
    } else {
      delete obj.metadata.generation;
    }
    if (live?.metadata.deletionTimestamp) {
      const added = (obj.metadata.finalizers ?? []).filter((f) => !(live.metadata.finalizers ?? []).includes(f));
      if (added.length) throw invalid(type.kind, type.group, obj.metadata.name, [{ reason: 'FieldValueForbidden', field: 'metadata.finalizers', message: 'Forbidden: no new finalizers can be added if the object is being deleted' }]);
    }
    validateObject({ obj, old: live, type });
    if (live && deepEqual(stripForCompare(live), stripForCompare(obj))) return live;
    if (options.dryRun) return { ...obj, metadata: { ...obj.metadata, resourceVersion: live?.metadata.resourceVersion ?? '' } };
    if (obj.metadata.finalizers?.length === 0) delete obj.metadata.finalizers;
    obj.metadata.resourceVersion = this.store.nextVersion();
    // An object being deleted whose last finalizer went away is gone.
    if (live?.metadata.deletionTimestamp && !obj.metadata.finalizers?.length) {
      this.store.put(resourceKey(type), obj, 'MODIFIED');
      this.store.remove(resourceKey(type), obj);
      this.hooks.changed(type, obj, 'DELETED');
      return obj;
    }
    this.store.put(resourceKey(type), obj, live ? 'MODIFIED' : 'ADDED');
    this.hooks.changed(type, obj, live ? 'MODIFIED' : 'ADDED');
    return obj;
  }

  create(type: ResourceType, namespace: string | undefined, body: unknown, options: WriteOptions): StoredObject {
    const obj = this.checkIdentity(type, body, namespace, undefined);
    const meta = { ...(obj.metadata ?? {}) };
    if (!meta.name && meta.generateName) {
      meta.name = meta.generateName + Array.from({ length: 5 }, () => NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)]).join('');
    }
    if (meta.resourceVersion) throw invalid(type.kind, type.group, meta.name ?? '', [{ reason: 'FieldValueInvalid', field: 'metadata.resourceVersion', message: 'Invalid value: "' + meta.resourceVersion + '": must be empty on create' }]);
    if (!meta.name) throw invalid(type.kind, type.group, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    this.checkUnknown(type, obj, options);
    if (type.namespaced) meta.namespace = namespace;
    this.requireNamespace(type, namespace, true);
    if (this.store.get(resourceKey(type), namespace, meta.name)) throw alreadyExists(gr(type), meta.name);
    const next = { ...obj, metadata: { ...meta, managedFields: [] } };
    const owned = recordUpdate({ live: { apiVersion: obj.apiVersion, kind: obj.kind, metadata: {} }, next, manager: options.manager, part: 'main', apiVersion: apiVersionOf(type), now: this.now() }, type);
    return this.commit(type, undefined, owned, 'main', options);
  }

  private checkVersion(type: ResourceType, live: StoredObject, rv: unknown): void {
    if (rv !== undefined && rv !== '' && rv !== live.metadata.resourceVersion) throw conflict(gr(type), live.metadata.name, OBJECT_MODIFIED);
  }

  update(type: ResourceType, namespace: string | undefined, name: string, part: Part, body: unknown, options: WriteOptions): StoredObject {
    const obj = this.checkIdentity(type, body, namespace, name);
    this.checkUnknown(type, obj, options);
    const live = this.get(type, namespace, name);
    const rv = obj.metadata?.resourceVersion;
    if ((rv === undefined || rv === '') && type.crdName) {
      throw invalid(type.kind, type.group, name, [{ reason: 'FieldValueInvalid', field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
    }
    this.checkVersion(type, live, rv);
    const next = part === 'status' ? { ...clone(live), status: obj.status } : { ...obj, metadata: { ...obj.metadata, managedFields: live.metadata.managedFields } };
    const owned = recordUpdate({ live, next: restrictOrKeep(type, next, live, part), manager: options.manager, part, apiVersion: apiVersionOf(type), now: this.now() }, type);
    return this.commit(type, live, owned, part, options);
  }

  patch(type: ResourceType, namespace: string | undefined, name: string, part: Part, patchType: PatchType, body: string, options: WriteOptions & { force: boolean }): StoredObject {
    if (patchType === 'application/apply-patch+yaml') return this.applyPatch(type, namespace, name, part, body, options);
    const live = this.get(type, namespace, name);
    const patched = applyNonApplyPatch(live, patchType, body);
    const obj = this.checkIdentity(type, patched, namespace, name);
    this.checkUnknown(type, obj, options);
    this.checkVersion(type, live, obj.metadata?.resourceVersion);
    obj.metadata = { ...obj.metadata, managedFields: live.metadata.managedFields };
    const owned = recordUpdate({ live, next: restrictOrKeep(type, obj, live, part), manager: options.manager, part, apiVersion: apiVersionOf(type), now: this.now() }, type);
    return this.commit(type, live, owned, part, options);
  }

  private applyPatch(type: ResourceType, namespace: string | undefined, name: string, part: Part, body: string, options: WriteOptions & { force: boolean }): StoredObject {
    let parsed: unknown;
    try {
      parsed = parseYaml(body, { strict: true, uniqueKeys: true });
    } catch (err) {
      throw badRequest(`error decoding YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    const applied = this.checkIdentity(type, parsed, namespace, name);
    if (!applied.metadata?.name) applied.metadata = { ...applied.metadata, name };
    if (applied.metadata.managedFields !== undefined) throw badRequest('metadata.managedFields must be nil');
    const unknown = type.unknownFields(applied);
    if (unknown.length) {
      throw untypedServerError(`failed to create typed patch object (${namespace ? `${namespace}/` : '/'}${name}; ${apiVersionOf(type)}, Kind=${type.kind}): .${unknown[0]}: field not declared in schema`);
    }
    const live = this.store.get(resourceKey(type), namespace, name);
    if (!live && part === 'status') throw notFound(gr(type), name);
    if (live) this.checkVersion(type, live, applied.metadata.resourceVersion);
    else {
      if (applied.metadata.resourceVersion) throw conflict(gr(type), name, OBJECT_MODIFIED);
      this.requireNamespace(type, namespace, true);
    }
    const base: KubeObject | undefined = live ?? undefined;
    const { resourceVersion: _rv, ...appliedMeta } = applied.metadata;
    const merged = apply({ live: base, applied: { ...applied, metadata: { ...appliedMeta, ...(type.namespaced ? { namespace } : {}) } }, manager: options.manager, force: options.force, part, apiVersion: apiVersionOf(type), now: this.now() }, type);
    if (!live && type.namespaced) merged.metadata = { ...merged.metadata, namespace };
    return this.commit(type, live, merged, part, options);
  }

  /** Starts the deletion of one object. Returns the object and whether it is gone already (no finalizers left). */
  delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions): { object: StoredObject; gone: boolean } {
    const live = this.get(type, namespace, name);
    const pre = options.preconditions ?? {};
    if (pre.uid && pre.uid !== live.metadata.uid) {
      throw conflict(gr(type), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${live.metadata.uid}`);
    }
    if (pre.resourceVersion && pre.resourceVersion !== live.metadata.resourceVersion) {
      throw conflict(gr(type), name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${live.metadata.resourceVersion}`);
    }
    const policy = options.propagationPolicy ?? 'Background';
    const finalizers = [...(live.metadata.finalizers ?? [])];
    if (type.kind === 'Namespace' && !type.crdName) {
      // The namespace controller empties it and then removes the `kubernetes` finalizer.
      if (options.dryRun) return { object: live, gone: false };
      const obj = clone(live);
      obj.metadata.deletionTimestamp ??= kubeTime(this.now());
      obj.status = { ...(isPlainObject(obj.status) ? obj.status : {}), phase: 'Terminating' };
      return { object: this.forceWrite(type, obj), gone: false };
    }
    if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
    if (options.dryRun) return { object: live, gone: finalizers.length === 0 };
    if (finalizers.length === 0) {
      this.store.remove(resourceKey(type), live);
      this.hooks.changed(type, live, 'DELETED');
      return { object: live, gone: true };
    }
    if (live.metadata.deletionTimestamp && deepEqual(finalizers, live.metadata.finalizers)) return { object: live, gone: false };
    const obj = clone(live);
    obj.metadata.deletionTimestamp ??= kubeTime(this.now());
    obj.metadata.deletionGracePeriodSeconds ??= 0;
    obj.metadata.finalizers = finalizers;
    if (tracksGeneration(type)) obj.metadata.generation = (obj.metadata.generation ?? 1) + 1;
    return { object: this.forceWrite(type, obj), gone: false };
  }

  /** A write by the fake's own controllers (status, GC, namespace lifecycle): no validation, no field ownership. */
  forceWrite(type: ResourceType, obj: StoredObject): StoredObject {
    const next = clone(obj);
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length && !(type.kind === 'Namespace' && !type.crdName)) {
      this.store.remove(resourceKey(type), next);
      this.hooks.changed(type, next, 'DELETED');
      return next;
    }
    next.metadata.resourceVersion = this.store.nextVersion();
    this.store.put(resourceKey(type), next, 'MODIFIED');
    this.hooks.changed(type, next, 'MODIFIED');
    return next;
  }

  /** Removes an object outright (a finished namespace). */
  forceRemove(type: ResourceType, obj: StoredObject): void {
    this.store.remove(resourceKey(type), obj);
    this.hooks.changed(type, obj, 'DELETED');
  }
}

/** A main-resource write keeps the stored status; a status write keeps everything else. */
function restrictOrKeep(type: ResourceType, next: KubeObject, live: StoredObject, part: Part): KubeObject {
  if (!type.statusSubresource) return next;
  if (part === 'status') return { ...clone(live), status: restrictTo(next, type, 'status').status, metadata: { ...live.metadata } };
  return live.status === undefined ? restrictTo(next, type, 'main') : { ...restrictTo(next, type, 'main'), status: clone(live.status) };
}

