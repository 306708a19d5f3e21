/**
 * Watch streams: newline-delimited JSON events over a chunked 200 response. Without a resourceVersion (or with
 * "0") the stream starts with a synthetic ADDED per existing object; with one, it replays the events after it, or
 * sends a 410 Expired ERROR event and ends when that version is compacted away. `allowWatchBookmarks` gets BOOKMARK
 * events when the fake is told to send them (`fake.bookmark()`), and on the interval given in the options.
 */
import type { ServerResponse } from 'node:http';
import type { KubeApi } from './api.js';
import type { ResourceType } from './resource-types.js';
import { apiVersionOf } from './resource-types.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { KubeError } from './status.js';
import type { StoreEvent, StoreWatcher } from './store.js';
import { resourceKey } from './type-registry.js';
import type { StoredObject } from './objects.js';

export interface WatchRequest {
  type: ResourceType;
  namespace: string | undefined;
  resourceVersion: string | null;
  bookmarks: boolean;
  timeoutSeconds: number | undefined;
  labelSelector: string | null;
  fieldSelector: string | null;
}

export interface OpenWatch {
  bookmark(): void;
  close(): void;
}

export function serveWatch(api: KubeApi, req: WatchRequest, res: ServerResponse, onClose: () => void): OpenWatch {
  const labels = req.labelSelector ? parseLabelSelector(req.labelSelector) : () => true;
  const fields = req.fieldSelector ? parseFieldSelector(req.fieldSelector) : () => true;
  const matches = (o: StoredObject) => labels(o.metadata.labels ?? {}) && fields(o);
  const key = resourceKey(req.type);
  let lastRv = api.store.currentVersion;
  let closed = false;

  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  const write = (type: string, object: unknown) => {
    if (!closed) res.write(JSON.stringify({ type, object }) + '\n');
  };
  const send = (e: StoreEvent) => {
    lastRv = Math.max(lastRv, e.rv);
    if (matches(e.object)) write(e.type, e.object);
  };
  const watcher: StoreWatcher = { resource: key, namespace: req.namespace, send };
  const close = () => {
    if (closed) return;
    closed = true;
    api.store.watchers.delete(watcher);
    if (timer) clearTimeout(timer);
    res.end();
    onClose();
  };
  res.on('close', close);
  let timer: NodeJS.Timeout | undefined;
  if (req.timeoutSeconds !== undefined) timer = setTimeout(close, req.timeoutSeconds * 1000);

  const rv = req.resourceVersion;
  if (rv === null || rv === '' || rv === '0') {
    for (const o of api.store.list(key, req.namespace)) if (matches(o)) write('ADDED', o);
  } else {
    try {
      for (const e of api.store.eventsSince(key, Number(rv))) {
        if (req.namespace === undefined || e.object.metadata.namespace === req.namespace) send(e);
      }
    } catch (err) {
      if (!(err instanceof KubeError)) throw err;
      write('ERROR', err.status);
      close();
      return { bookmark: () => {}, close };
    }
  }
  api.store.watchers.add(watcher);
  return {
    bookmark: () => {
      if (!req.bookmarks) return;
      write('BOOKMARK', { kind: req.type.kind, apiVersion: apiVersionOf(req.type), metadata: { resourceVersion: String(Math.max(lastRv, api.store.currentVersion)) } });
    },
    close,
  };
}
