/**
 * A list+watch cache of one kind (an informer, as client-go's reflector and store): lists (paginated), then watches
 * from the list's resourceVersion with bookmarks and a long server-side timeout, resumes from the last version it saw
 * when a stream ends, lists again after 410 Gone, and backs off (1 s doubling to 30 s, jittered) while the API server
 * cannot be reached or refuses. With nothing changing it makes one watch request per `watchTimeoutSeconds`: no polling.
 *
 * (client-node's ListWatch stops for good on any error but 410, and its Watch drops a stream after 30 s without
 * data and asks for no bookmarks; this loop does neither.)
 */
import { backoffDelay, type TargetLog } from '@wharf/contracts';
import type { KubeApi } from './kube-api.js';
import { isGone } from './kube-errors.js';
import { KubeApiError, type KubeStatus } from './kube-http.js';
import { collectionPath, type KindInfo, type KubeObject, resourceName } from './resources.js';

export type ChangeType = 'added' | 'updated' | 'deleted';

export interface InformerOptions<T> {
  api: KubeApi;
  kind: KindInfo;
  /** One namespace; every namespace when undefined. */
  namespace?: string;
  labelSelector?: string;
  /** What the cache keeps of an object (drop managedFields, large data). Default: the object without managedFields. */
  transform?: (obj: KubeObject) => T;
  /** Called for each change, after the cache has it. */
  onChange?: (type: ChangeType, obj: T, old: T | undefined) => void;
  log: TargetLog;
  random?: () => number;
  /** Server-side timeout of each watch request; the next starts from the last resourceVersion. Default 300–600 s. */
  watchTimeoutSeconds?: () => number;
}

export interface Cached {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
}

export interface Informer<T extends Cached> {
  /** Starts the loop; resolves once the first list is in the cache (or rejects if `signal` aborts first). */
  start(signal?: AbortSignal): Promise<void>;
  get(namespace: string | undefined, name: string): T | undefined;
  list(): IterableIterator<T>;
  readonly size: number;
  /** A write's answer: kept when it is newer than what the cache holds. */
  upsert(obj: KubeObject): void;
  /** A deletion confirmed by the API server. */
  forget(namespace: string | undefined, name: string): void;
  readonly synced: boolean;
  /** The error of the last failed list or watch; null while it works. */
  readonly lastError: Error | null;
  stop(): Promise<void>;
}

const key = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

/** resourceVersions are opaque, but etcd's are integers: compare them only when both are. */
function newer(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return true;
  return BigInt(a) >= BigInt(b);
}

export const withoutManagedFields = (obj: KubeObject): KubeObject => {
  if (!obj.metadata?.managedFields) return obj;
  const { managedFields: _m, ...metadata } = obj.metadata;
  return { ...obj, metadata };
};

export function createInformer<T extends Cached>(options: InformerOptions<T>): Informer<T> {
  const { api, kind, log } = options;
  const transform = options.transform ?? ((o: KubeObject) => withoutManagedFields(o) as unknown as T);
  const random = options.random ?? Math.random;
  const timeoutSeconds = options.watchTimeoutSeconds ?? (() => 300 + Math.floor(random() * 300));
  const cache = new Map<string, T>();
  const what = { verb: 'watch', resource: resourceName(kind), ...(options.namespace ? { namespace: options.namespace } : {}) };
  let resourceVersion: string | undefined;
  let synced = false;
  let lastError: Error | null = null;
  let stopped = false;
  let running: Promise<void> | undefined;
  let abortStream: (() => void) | undefined;
  let wakeSleep: (() => void) | undefined;
  const syncWaiters: (() => void)[] = [];

  const set = (obj: KubeObject) => {
    if (!obj?.metadata?.name) return;
    const k = key(obj.metadata.namespace, obj.metadata.name);
    const old = cache.get(k);
    if (old && !newer(obj.metadata.resourceVersion, old.metadata.resourceVersion)) return;
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    const next = transform({ apiVersion: kind.apiVersion, kind: kind.kind, ...obj });
    cache.set(k, next);
    options.onChange?.(old ? 'updated' : 'added', next, old);
  };
  const remove = (namespace: string | undefined, name: string) => {
    const k = key(namespace, name);
    const old = cache.get(k);
    if (!old) return;
    cache.delete(k);
    options.onChange?.('deleted', old, old);
  };

  const relist = async () => {
    const listed = await api.list<KubeObject>(kind, { namespace: options.namespace, labelSelector: options.labelSelector });
    const seen = new Set<string>();
    for (const item of listed.items) {
      seen.add(key(item.metadata.namespace, item.metadata.name));
      set(item);
    }
    for (const [k, old] of [...cache]) if (!seen.has(k)) remove(old.metadata.namespace, old.metadata.name);
    resourceVersion = listed.resourceVersion;
    if (!synced) {
      synced = true;
      syncWaiters.splice(0).forEach((w) => w());
    }
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopped) return resolve();
      const timer = setTimeout(resolve, ms);
      wakeSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const loop = async () => {
    let failures = 0;
    while (!stopped) {
      let expired = false;
      let streamError: Error | null = null;
      const started = Date.now();
      try {
        if (resourceVersion === undefined) await relist();
        if (stopped) return;
        const stream = await api.http.watch(
          collectionPath(kind, options.namespace),
          { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: timeoutSeconds(), labelSelector: options.labelSelector },
          (event) => {
            const obj = event.object as KubeObject;
            if (event.type === 'ERROR') {
              const status = event.object as KubeStatus;
              if (status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone') expired = true;
              else streamError = new KubeApiError(status.code ?? 500, status, what);
              abortStream?.();
              return;
            }
            if (obj?.metadata?.resourceVersion) resourceVersion = obj.metadata.resourceVersion;
            if (event.type === 'ADDED' || event.type === 'MODIFIED') set(obj);
            else if (event.type === 'DELETED') remove(obj.metadata.namespace, obj.metadata.name);
          },
          what,
        );
        abortStream = stream.abort;
        // stop() may have come while the watch was being opened: it could not abort a stream it did not have yet.
        if (stopped) {
          stream.abort();
          return;
        }
        if (lastError) log.info({ resource: what.resource }, 'watch resumed');
        lastError = null;
        await stream.done;
        abortStream = undefined;
        if (stopped) return;
        if (expired) {
          log.info({ resource: what.resource, resourceVersion }, 'watch expired (410): listing again');
          resourceVersion = undefined;
          continue;
        }
        if (streamError) throw streamError;
        // A stream that ends at once over and over (a proxy cutting it) backs off like a failure.
        if (Date.now() - started < 1_000) {
          failures++;
          await sleep(backoffDelay(failures, random, { baseMs: 1_000, maxMs: 30_000, jitter: 'proportional' }));
        } else failures = 0;
      } catch (err) {
        if (stopped) return;
        if (isGone(err)) {
          resourceVersion = undefined;
          continue;
        }
        failures++;
        lastError = err as Error;
        const delay = backoffDelay(failures, random, { baseMs: 1_000, maxMs: 30_000, jitter: 'proportional' });
        log.warn({ err, resource: what.resource, attempt: failures, retryInMs: delay }, 'list or watch failed');
        await sleep(delay);
      }
    }
  };

  return {
    start(signal) {
      running ??= loop();
      if (synced) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        syncWaiters.push(resolve);
        signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      });
    },
    get: (namespace, name) => cache.get(key(namespace, name)),
    list: () => cache.values(),
    get size() {
      return cache.size;
    },
    upsert: (obj) => set(obj),
    forget: (namespace, name) => remove(namespace, name),
    get synced() {
      return synced;
    },
    get lastError() {
      return lastError;
    },
    async stop() {
      stopped = true;
      abortStream?.();
      wakeSleep?.();
      await running;
    },
  };
}
