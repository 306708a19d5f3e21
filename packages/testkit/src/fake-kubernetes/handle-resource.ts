/**
 * One resource request (get, list, watch, create, update, patch, delete, deletecollection) after routing and
 * authentication: checks the query parameters, the content type and the body as the API server does, authorizes,
 * and calls the resource operations.
 */
import type { ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { DeleteOptions, FieldValidation, KubeApi, PropagationPolicy, WriteOptions } from './api.js';
import type { Part } from './managed-fields.js';
import { PATCH_TYPES, type PatchType } from './patches.js';
import type { Authorizer, User, Verb } from './rbac.js';
import { apiVersionOf, type ResourceType } from './resource-types.js';
import { PARAMETERS } from './routes.js';
import { badRequest, invalid, KubeError, methodNotAllowed, pathNotFound, successStatus, unsupportedMediaType } from './status.js';
import { toTable } from './table.js';
import { serveWatch, type OpenWatch } from './watch.js';
import { isPlainObject, type StoredObject } from './objects.js';

export interface ResourceRequest {
  method: string;
  type: ResourceType;
  verb: Verb;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  query: URLSearchParams;
  contentType: string;
  accept: string;
  userAgent: string;
  body: string;
  user: User;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface HandlerContext {
  api: KubeApi;
  authorizer: Authorizer;
  now: () => number;
  openWatch(w: OpenWatch): void;
  closeWatch(w: OpenWatch): void;
  /** Requests the fake refused because it does not implement them (tests may assert it stays empty). */
  problems: string[];
}

const optionsKind = (verb: Verb) => (verb === 'patch' ? 'PatchOptions' : verb === 'create' ? 'CreateOptions' : verb === 'update' ? 'UpdateOptions' : 'DeleteOptions');

const optionsInvalid = (verb: Verb, field: string, message: string): KubeError =>
  invalid(optionsKind(verb), 'meta.k8s.io', '', [{ reason: 'FieldValueInvalid', field, message }]);

function checkParameters(req: ResourceRequest, ctx: HandlerContext): void {
  const allowed = PARAMETERS[req.verb];
  for (const key of new Set(req.query.keys())) {
    if (!allowed.includes(key)) {
      ctx.problems.push(`${req.method} ${req.type.plural}: query parameter "${key}" is not supported for ${req.verb}`);
      throw badRequest(`fake-kubernetes: query parameter "${key}" is not supported for ${req.verb} (see packages/testkit/src/fake-kubernetes/README.md)`);
    }
  }
  const dryRun = req.query.getAll('dryRun');
  if (dryRun.some((d) => d !== 'All')) throw optionsInvalid(req.verb, 'dryRun', `Unsupported value: ${JSON.stringify(dryRun)}: supported values: "All"`);
  const fv = req.query.get('fieldValidation');
  if (fv !== null && !['Strict', 'Warn', 'Ignore'].includes(fv)) {
    throw badRequest(`fieldValidation parameter unsupported: ${fv}. Supported values are Strict, Warn and Ignore`);
  }
  const manager = req.query.get('fieldManager');
  if (manager !== null && (manager.length > 128 || /[^\x20-\x7e]/.test(manager))) {
    throw optionsInvalid(req.verb, 'fieldManager', `Invalid value: ${JSON.stringify(manager)}: must be at most 128 printable characters`);
  }
  const policy = req.query.get('propagationPolicy');
  if (policy !== null && !['Foreground', 'Background', 'Orphan'].includes(policy)) {
    throw optionsInvalid(req.verb, 'propagationPolicy', `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
  }
  for (const n of ['limit', 'timeoutSeconds', 'gracePeriodSeconds']) {
    const v = req.query.get(n);
    if (v !== null && !/^-?\d+$/.test(v)) throw badRequest(`failed to parse ${n} ${JSON.stringify(v)}: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  }
  for (const n of ['watch', 'allowWatchBookmarks', 'force', 'orphanDependents']) {
    const v = req.query.get(n);
    if (v !== null && !['true', 'false', '1', '0'].includes(v)) throw badRequest(`failed to parse ${n} ${JSON.stringify(v)}: strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
  }
  if (req.query.get('sendInitialEvents') !== null) {
    throw invalid('ListOptions', 'meta.k8s.io', '', [{ reason: 'FieldValueForbidden', field: 'sendInitialEvents', message: 'Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled' }]);
  }
  if (req.query.get('resourceVersionMatch') !== null) {
    ctx.problems.push(`${req.method} ${req.type.plural}: resourceVersionMatch is not implemented`);
    throw badRequest('fake-kubernetes: resourceVersionMatch is not implemented (see README)');
  }
}

const truthy = (v: string | null) => v === 'true' || v === '1';

function writeOptions(req: ResourceRequest): WriteOptions {
  const manager = req.query.get('fieldManager') ?? (req.userAgent.split('/')[0] || 'unknown');
  return { manager, dryRun: req.query.get('dryRun') === 'All', fieldValidation: (req.query.get('fieldValidation') ?? 'Warn') as FieldValidation, warnings: [] };
}

function parseBody(req: ResourceRequest): unknown {
  const ct = req.contentType.split(';')[0]!.trim().toLowerCase();
  if (!req.body.trim()) throw badRequest('the object provided is unrecognized: empty body');
  try {
    if (ct === 'application/json') return JSON.parse(req.body);
    if (ct === 'application/yaml') return parseYaml(req.body, { strict: true });
  } catch (err) {
    throw badRequest(`the object provided is unrecognized (must be of type ${req.type.kind}): couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
  throw unsupportedMediaType(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
}

function deleteOptions(req: ResourceRequest): DeleteOptions {
  let body: Record<string, unknown> = {};
  if (req.body.trim()) {
    const ct = req.contentType.split(';')[0]!.trim().toLowerCase();
    if (ct !== 'application/json') throw unsupportedMediaType(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
    try {
      body = JSON.parse(req.body) as Record<string, unknown>;
    } catch (err) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
    }
    if (!isPlainObject(body) || (body.kind !== undefined && body.kind !== 'DeleteOptions')) throw badRequest(`expected DeleteOptions, got ${JSON.stringify(body.kind)}`);
  }
  const orphan = req.query.get('orphanDependents') ?? (body.orphanDependents as boolean | undefined)?.toString() ?? null;
  const policy = (req.query.get('propagationPolicy') ?? body.propagationPolicy ?? (orphan === 'true' ? 'Orphan' : undefined)) as PropagationPolicy | undefined;
  if (policy !== undefined && !['Foreground', 'Background', 'Orphan'].includes(policy)) {
    throw optionsInvalid('delete', 'propagationPolicy', `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
  }
  const dryRun = req.query.get('dryRun') === 'All' || (Array.isArray(body.dryRun) && body.dryRun.includes('All'));
  return { propagationPolicy: policy, preconditions: body.preconditions as DeleteOptions['preconditions'], dryRun };
}

const wantsTable = (accept: string) => /as=Table/.test(accept);
const listOf = (type: ResourceType, items: StoredObject[], resourceVersion: string, cont?: string, remaining?: number) => ({
  kind: type.listKind,
  apiVersion: apiVersionOf(type),
  metadata: { resourceVersion, ...(cont ? { continue: cont, remainingItemCount: remaining } : {}) },
  // Typed lists of built-in kinds carry no apiVersion/kind per item; unstructured custom resource lists do.
  items: type.crdName ? items : items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest),
});

export function handleResource(req: ResourceRequest, res: ServerResponse, ctx: HandlerContext): Reply | 'streaming' {
  const { api, authorizer } = ctx;
  const { type, verb, namespace, name } = req;
  checkParameters(req, ctx);
  let part: Part = 'main';
  if (req.subresource) {
    if (req.subresource !== 'status' || !req.type.statusSubresource) throw pathNotFound();
    if (!['get', 'update', 'patch'].includes(verb)) throw methodNotAllowed();
    part = 'status';
  }
  if (type.namespaced && namespace === undefined && !['list', 'watch'].includes(verb)) throw pathNotFound();
  if (!type.namespaced && namespace !== undefined) throw pathNotFound();
  authorizer.authorize(req.user, { verb, group: type.group, resource: type.plural, subresource: req.subresource, namespace, name });
  const warn = (o: WriteOptions) => (o.warnings.length ? { warning: o.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') } : undefined);

  switch (verb) {
    case 'get': {
      const obj = api.get(type, namespace, name!);
      if (wantsTable(req.accept)) return { status: 200, body: toTable(type, [obj], obj.metadata.resourceVersion, ctx.now(), null) };
      return { status: 200, body: obj };
    }
    case 'list': {
      const limit = req.query.get('limit');
      const r = api.list(type, namespace, {
        labelSelector: req.query.get('labelSelector') ?? undefined,
        fieldSelector: req.query.get('fieldSelector') ?? undefined,
        limit: limit ? Number(limit) : undefined,
        continueToken: req.query.get('continue') ?? undefined,
      });
      if (wantsTable(req.accept)) {
        const table = toTable(type, r.items, r.resourceVersion, ctx.now(), null);
        return { status: 200, body: { ...table, metadata: { ...table.metadata, ...(r.continueToken ? { continue: r.continueToken, remainingItemCount: r.remaining } : {}) } } };
      }
      return { status: 200, body: listOf(type, r.items, r.resourceVersion, r.continueToken, r.remaining) };
    }
    case 'watch': {
      const timeout = req.query.get('timeoutSeconds');
      let w: OpenWatch | undefined = undefined;
      w = serveWatch(
        api,
        {
          type,
          namespace,
          resourceVersion: req.query.get('resourceVersion'),
          bookmarks: truthy(req.query.get('allowWatchBookmarks')),
          timeoutSeconds: timeout ? Number(timeout) : undefined,
          labelSelector: req.query.get('labelSelector'),
          fieldSelector: req.query.get('fieldSelector'),
        },
        res,
        () => w && ctx.closeWatch(w),
      );
      ctx.openWatch(w);
      return 'streaming';
    }
    case 'create': {
      if (req.query.get('force') !== null) throw optionsInvalid(verb, 'force', 'Forbidden: may not be specified for non-apply patch');
      const o = writeOptions(req);
      const obj = api.create(type, namespace, parseBody(req), o);
      return { status: 201, body: obj, headers: warn(o) };
    }
    case 'update': {
      const o = writeOptions(req);
      const obj = api.update(type, namespace, name!, part, parseBody(req), o);
      return { status: 200, body: obj, headers: warn(o) };
    }
    case 'patch': {
      const ct = req.contentType.split(';')[0]!.trim().toLowerCase() as PatchType;
      const accepted: readonly PatchType[] = type.crdName ? PATCH_TYPES.filter((t) => t !== 'application/strategic-merge-patch+json') : PATCH_TYPES;
      if (!accepted.includes(ct)) throw unsupportedMediaType(accepted);
      const force = req.query.get('force');
      if (ct !== 'application/apply-patch+yaml' && force !== null) throw optionsInvalid(verb, 'force', 'Forbidden: may not be specified for non-apply patch');
      if (ct === 'application/apply-patch+yaml' && !req.query.get('fieldManager')) {
        throw optionsInvalid(verb, 'fieldManager', 'Required value: is required for apply patch');
      }
      if (!req.body.trim()) throw badRequest('the body of the request was empty');
      const o = writeOptions(req);
      const obj = api.patch(type, namespace, name!, part, ct, req.body, { ...o, force: truthy(force) });
      return { status: 200, body: obj, headers: warn(o) };
    }
    case 'delete': {
      const r = api.delete(type, namespace, name!, deleteOptions(req));
      if (r.gone) return { status: 200, body: successStatus({ name: name!, ...(type.group ? { group: type.group } : {}), kind: type.plural, uid: r.object.metadata.uid }) };
      return { status: 200, body: r.object };
    }
    case 'deletecollection': {
      const options = deleteOptions(req);
      const r = api.list(type, namespace, { labelSelector: req.query.get('labelSelector') ?? undefined, fieldSelector: req.query.get('fieldSelector') ?? undefined });
      for (const o of r.items) api.delete(type, o.metadata.namespace, o.metadata.name, options);
      return { status: 200, body: listOf(type, r.items, String(api.store.currentVersion)) };
    }
  }
}
