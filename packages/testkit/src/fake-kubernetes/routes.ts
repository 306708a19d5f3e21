/**
 * URL → what is asked, the way kube-apiserver's RequestInfo reads it: discovery and OpenAPI documents, or a
 * resource request (group, version, namespace, resource, name, subresource) and its verb.
 */
import type { Verb } from './rbac.js';

export type Route =
  | { kind: 'version' | 'api' | 'apis' | 'openapi-v3' | 'openapi-v2' | 'health' }
  | { kind: 'group'; group: string }
  | { kind: 'resource-list'; group: string; version: string }
  | { kind: 'openapi-v3-gv'; group: string; version: string }
  | { kind: 'resource'; group: string; version: string; namespace?: string; plural: string; name?: string; subresource?: string }
  | { kind: 'unknown' };

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (pathname === '/version' || pathname === '/version/') return { kind: 'version' };
  if (['/healthz', '/readyz', '/livez'].includes(pathname)) return { kind: 'health' };
  if (parts[0] === 'openapi') {
    if (parts[1] === 'v2') return { kind: 'openapi-v2' };
    if (parts[1] !== 'v3') return { kind: 'unknown' };
    if (parts.length === 2) return { kind: 'openapi-v3' };
    if (parts[2] === 'api' && parts.length === 4) return { kind: 'openapi-v3-gv', group: '', version: parts[3]! };
    if (parts[2] === 'apis' && parts.length === 5) return { kind: 'openapi-v3-gv', group: parts[3]!, version: parts[4]! };
    return { kind: 'unknown' };
  }
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api') {
    if (parts.length === 1) return { kind: 'api' };
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    if (parts.length === 1) return { kind: 'apis' };
    if (parts.length === 2) return { kind: 'group', group: parts[1]! };
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return { kind: 'unknown' };
  }
  if (rest.length === 0) return { kind: 'resource-list', group, version };
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1];
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) rest = rest.slice(2);
    else namespace = undefined;
  }
  if (rest.length > 3) return { kind: 'unknown' };
  const [plural, name, subresource] = rest;
  return { kind: 'resource', group, version, plural: plural!, ...(namespace !== undefined ? { namespace } : {}), ...(name ? { name } : {}), ...(subresource ? { subresource } : {}) };
}

export function verbOf(method: string, hasName: boolean, watch: boolean): Verb | undefined {
  if (method === 'GET') return hasName ? 'get' : watch ? 'watch' : 'list';
  if (method === 'POST') return hasName ? undefined : 'create';
  if (method === 'PUT') return hasName ? 'update' : undefined;
  if (method === 'PATCH') return hasName ? 'patch' : undefined;
  if (method === 'DELETE') return hasName ? 'delete' : 'deletecollection';
  return undefined;
}

const COMMON = ['pretty', 'timeout'];
const LIST = ['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'resourceVersionMatch', 'timeoutSeconds', 'allowWatchBookmarks', 'watch', 'sendInitialEvents'];
const WRITE = ['dryRun', 'fieldManager', 'fieldValidation'];
const DELETE = ['dryRun', 'gracePeriodSeconds', 'propagationPolicy', 'orphanDependents'];

/** The query parameters each verb takes; anything else is refused by the fake (see README). */
export const PARAMETERS: Record<Verb, readonly string[]> = {
  get: [...COMMON, 'resourceVersion'],
  list: [...COMMON, ...LIST],
  watch: [...COMMON, ...LIST],
  create: [...COMMON, ...WRITE],
  update: [...COMMON, ...WRITE],
  patch: [...COMMON, ...WRITE, 'force'],
  delete: [...COMMON, ...DELETE],
  deletecollection: [...COMMON, ...LIST, ...DELETE],
};
