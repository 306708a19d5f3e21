/**
 * The operations Wharf uses, on top of KubeHttp: get, paginated list, server-side apply, create, replace, a merge
 * patch of the status subresource, and delete with a propagation policy. Every call names what it does, so a
 * refusal can say which verb on which resource was refused.
 */
import { isNotFound } from './kube-errors.js';
import type { KubeHttp } from './kube-http.js';
import { collectionPath, type KindInfo, type KubeObject, objectPath, resourceName } from './resources.js';

export interface ApplyOptions {
  manager: string;
  /** Take over fields another manager owns. Each caller says why it may (see docs/kubernetes.md). */
  force?: boolean;
}

export interface KubeList<T> {
  items: T[];
  resourceVersion: string;
}

export type DeleteOutcome = 'deleted' | 'pending' | 'gone';

export interface KubeApi {
  readonly http: KubeHttp;
  get<T extends KubeObject>(k: KindInfo, namespace: string | undefined, name: string, signal?: AbortSignal): Promise<T | null>;
  list<T extends KubeObject>(k: KindInfo, options?: { namespace?: string; labelSelector?: string; pageSize?: number; signal?: AbortSignal }): Promise<KubeList<T>>;
  apply<T extends KubeObject>(k: KindInfo, obj: KubeObject, options: ApplyOptions & { signal?: AbortSignal }): Promise<T>;
  create<T extends KubeObject>(k: KindInfo, obj: KubeObject, manager: string, signal?: AbortSignal): Promise<T>;
  replace<T extends KubeObject>(k: KindInfo, obj: KubeObject, manager: string, signal?: AbortSignal): Promise<T>;
  /** JSON merge patch of `/status`; `resourceVersion` makes it conditional (409 when the object moved on). */
  patchStatus<T extends KubeObject>(k: KindInfo, namespace: string, name: string, status: unknown, options: { manager: string; resourceVersion?: string; signal?: AbortSignal }): Promise<T>;
  /** `gone`: it was not there; `pending`: finalizers hold it (foreground deletion waits for its children). */
  remove(k: KindInfo, namespace: string | undefined, name: string, options?: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'; uid?: string; signal?: AbortSignal }): Promise<DeleteOutcome>;
}

export function createKubeApi(http: KubeHttp): KubeApi {
  const what = (verb: string, k: KindInfo, namespace?: string, name?: string) => ({ verb, resource: resourceName(k), ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) });
  return {
    http,
    async get(k, namespace, name, signal) {
      try {
        return await http.request({ method: 'GET', path: objectPath(k, namespace, name), what: what('get', k, namespace, name), signal });
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },
    async list<T extends KubeObject>(k: KindInfo, options: { namespace?: string; labelSelector?: string; pageSize?: number; signal?: AbortSignal } = {}) {
      const items: T[] = [];
      let continueToken: string | undefined;
      let resourceVersion = '';
      do {
        const page = await http.request<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>({
          method: 'GET',
          path: collectionPath(k, options.namespace),
          query: { labelSelector: options.labelSelector, limit: options.pageSize ?? 500, continue: continueToken },
          what: what('list', k, options.namespace),
          signal: options.signal,
        });
        for (const item of page.items ?? []) items.push({ apiVersion: k.apiVersion, kind: k.kind, ...item });
        resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
        continueToken = page.metadata?.continue || undefined;
      } while (continueToken);
      return { items, resourceVersion };
    },
    apply(k, obj, options) {
      const ns = obj.metadata.namespace;
      return http.request({
        method: 'PATCH',
        path: objectPath(k, ns, obj.metadata.name),
        query: { fieldManager: options.manager, force: options.force ?? false },
        body: JSON.stringify({ apiVersion: k.apiVersion, kind: k.kind, ...obj }),
        contentType: 'application/apply-patch+yaml',
        what: what('patch', k, ns, obj.metadata.name),
        signal: options.signal,
      });
    },
    create(k, obj, manager, signal) {
      const ns = obj.metadata.namespace;
      return http.request({ method: 'POST', path: collectionPath(k, ns), query: { fieldManager: manager }, body: { apiVersion: k.apiVersion, kind: k.kind, ...obj }, what: what('create', k, ns, obj.metadata.name), signal });
    },
    replace(k, obj, manager, signal) {
      const ns = obj.metadata.namespace;
      return http.request({ method: 'PUT', path: objectPath(k, ns, obj.metadata.name), query: { fieldManager: manager }, body: { apiVersion: k.apiVersion, kind: k.kind, ...obj }, what: what('update', k, ns, obj.metadata.name), signal });
    },
    patchStatus(k, namespace, name, status, options) {
      return http.request({
        method: 'PATCH',
        path: objectPath(k, namespace, name, 'status'),
        query: { fieldManager: options.manager },
        body: { ...(options.resourceVersion ? { metadata: { resourceVersion: options.resourceVersion } } : {}), status },
        contentType: 'application/merge-patch+json',
        what: what('patch', { ...k, plural: `${k.plural}/status` }, namespace, name),
        signal: options.signal,
      });
    },
    async remove(k, namespace, name, options = {}) {
      try {
        const body = {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          ...(options.propagationPolicy ? { propagationPolicy: options.propagationPolicy } : {}),
          ...(options.uid ? { preconditions: { uid: options.uid } } : {}),
        };
        const res = await http.request<{ kind?: string; metadata?: { deletionTimestamp?: string } }>({ method: 'DELETE', path: objectPath(k, namespace, name), body, what: what('delete', k, namespace, name), signal: options.signal });
        return res?.kind === 'Status' || !res?.metadata?.deletionTimestamp ? 'deleted' : 'pending';
      } catch (err) {
        if (isNotFound(err)) return 'gone';
        throw err;
      }
    },
  };
}
