/**
 * A strict fake Kubernetes API server on loopback that the real kubectl and @kubernetes/client-node talk to.
 * See README.md beside this file for what it implements and where it differs from kube-apiserver.
 *
 * Against a real cluster none of this is needed: point the kubeconfig at it.
 */
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { KubeApi } from './api.js';
import { loadModelIndex } from './builtin-fields.js';
import { availableStatus, Controllers } from './controllers.js';
import type { CrdSpec } from './crd-types.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, openApiV3Document, openApiV3Index, versionInfo } from './discovery.js';
import { handleResource, type HandlerContext } from './handle-resource.js';
import { Authorizer, VERBS } from './rbac.js';
import type { ResourceType } from './resource-types.js';
import { parseRoute, verbOf } from './routes.js';
import { internalError, KubeError, methodNotAllowed, notAcceptable, pathNotFound, serviceUnavailable, timeout, tooLarge, tooManyRequests } from './status.js';
import { ObjectStore } from './store.js';
import { servingCertificate } from './tls.js';
import { resourceKey, TypeRegistry } from './type-registry.js';
import type { OpenWatch } from './watch.js';
import { clientOptionsFor, kubeconfigFor } from './kubeconfig.js';
import type { FakeKubernetes, FakeKubernetesOptions, KubeconfigOptions, KubeFaultRule, KubeRequestRecord, RequestCounts } from './fake-kubernetes-types.js';

export type * from './fake-kubernetes-types.js';
import { clone, type KubeObject, type StoredObject } from './objects.js';

/** kube-apiserver's limit on a request body. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;
/** Requests kept in `requests` (and counted by `counts()`); older ones are dropped. */
export const MAX_RECORDED_REQUESTS = 200_000;

const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const WRITE_VERBS: ReadonlySet<string> = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) throw tooLarge(MAX_BODY_BYTES);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Accept must allow JSON (kubectl and client-node always do; protobuf-only clients are refused). */
function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(',').some((a) => {
    const media = a.split(';')[0]!.trim();
    return media === 'application/json' || media === '*/*' || media === 'application/*';
  });
}

export async function startFakeKubernetes(options: FakeKubernetesOptions = {}): Promise<FakeKubernetes> {
  const now = options.now ?? Date.now;
  const store = new ObjectStore(options.watchHistory ?? 10_000);
  const types = new TypeRegistry(await loadModelIndex());
  const controllers = new Controllers(types, { deploymentsBecomeAvailable: options.deploymentsBecomeAvailable ?? false, now });
  const api = new KubeApi(store, types, controllers, now);
  controllers.api = api;
  const authorizer = new Authorizer();
  for (const sa of options.serviceAccounts ?? []) authorizer.addServiceAccount(sa);
  const watches = new Set<OpenWatch>();
  const faults: (KubeFaultRule & { left: number })[] = [];
  const requests: KubeRequestRecord[] = [];
  const problems: string[] = [];
  const sockets = new Set<Socket>();
  const crdSchemas = new Map<string, unknown>();

  const typeFor = (apiVersion: string, kind: string): ResourceType => {
    const t = types.byKind(apiVersion, kind);
    if (!t) throw new Error(`fake-kubernetes serves no ${kind} in ${apiVersion}`);
    return t;
  };
  const admin = { manager: 'fake-kubernetes', dryRun: false, fieldValidation: 'Strict' as const, warnings: [] };

  for (const ns of options.namespaces ?? DEFAULT_NAMESPACES) {
    api.create(typeFor('v1', 'Namespace'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, { ...admin, warnings: [] });
  }
  for (const file of options.crdFiles ?? []) {
    for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
      const crd = doc.toJS() as KubeObject;
      if (crd?.kind === 'CustomResourceDefinition') api.create(typeFor('apiextensions.k8s.io/v1', 'CustomResourceDefinition'), undefined, crd, { ...admin, warnings: [] });
    }
  }
  await controllers.idle();

  const refreshCrdSchemas = () => {
    crdSchemas.clear();
    for (const crd of store.list('apiextensions.k8s.io/customresourcedefinitions')) {
      const spec = crd.spec as CrdSpec;
      for (const v of spec.versions) if (v.schema?.openAPIV3Schema) crdSchemas.set(`${spec.group}/${v.name}/${spec.names.kind}`, v.schema.openAPIV3Schema);
    }
  };

  const ctx: HandlerContext = {
    api,
    authorizer,
    now,
    problems,
    openWatch: (w) => watches.add(w),
    closeWatch: (w) => watches.delete(w),
  };

  const matchFault = (rec: KubeRequestRecord) => {
    const rule = faults.find(
      (f) => f.left > 0 && (!f.verb || f.verb === rec.verb) && (!f.resource || rec.resource.endsWith(`/${f.resource}`)) && (!f.namespace || f.namespace === rec.namespace),
    );
    if (rule) rule.left -= 1;
    return rule?.fault;
  };

  const serveDiscovery = (route: ReturnType<typeof parseRoute>, res: ServerResponse, host: string): number => {
    refreshCrdSchemas();
    let body: unknown;
    switch (route.kind) {
      case 'version':
        body = versionInfo();
        break;
      case 'health':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('ok');
        return 200;
      case 'api':
        body = apiVersions(host);
        break;
      case 'apis':
        body = apiGroupList(types);
        break;
      case 'group':
        body = apiGroup(types, route.group);
        break;
      case 'resource-list':
        body = apiResourceList(types, route.group, route.version);
        break;
      case 'openapi-v3':
        body = openApiV3Index(types, crdSchemas);
        break;
      case 'openapi-v3-gv':
        body = openApiV3Document(types, route.group, route.version, crdSchemas);
        break;
      default:
        body = undefined;
    }
    if (body === undefined) throw pathNotFound();
    sendJson(res, 200, body);
    return 200;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, rec: KubeRequestRecord): Promise<number> => {
    const url = new URL(req.url ?? '/', 'http://fake-kubernetes');
    const route = parseRoute(url.pathname);
    if (route.kind === 'unknown' || route.kind === 'openapi-v2') {
      if (!url.pathname.startsWith('/api') && !url.pathname.startsWith('/openapi')) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('404 page not found\n');
        return 404;
      }
      throw pathNotFound();
    }
    const user = authorizer.authenticate(req.headers.authorization);
    rec.user = user.name;
    if (!acceptsJson(req.headers.accept)) throw notAcceptable(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
    if (route.kind !== 'resource') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw pathNotFound();
      return serveDiscovery(route, res, req.headers.host ?? '');
    }
    const type = types.byResource(route.group, route.version, route.plural);
    if (!type) throw pathNotFound();
    const watch = url.searchParams.get('watch');
    const verb = verbOf(req.method ?? 'GET', Boolean(route.name), watch === 'true' || watch === '1');
    Object.assign(rec, { resource: resourceKey(type), namespace: route.namespace, name: route.name, subresource: route.subresource, fieldManager: url.searchParams.get('fieldManager') ?? undefined });
    if (!verb) {
      rec.verb = 'discovery';
      throw methodNotAllowed();
    }
    rec.verb = verb;
    const fault = matchFault(rec);
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return 0;
    }
    if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
    if (fault?.kind === 'hold') await fault.release.catch(() => undefined);
    if (fault?.kind === 'status') {
      if (fault.code === 429) throw tooManyRequests(fault.retryAfterSeconds ?? 1);
      if (fault.code === 503) throw serviceUnavailable('the server is currently unable to handle the request');
      if (fault.code === 504) throw timeout();
      throw internalError(`injected fault ${fault.code}`);
    }
    const body = await readBody(req);
    const reply = handleResource(
      {
        method: req.method ?? 'GET',
        type,
        verb,
        namespace: route.namespace,
        name: route.name,
        subresource: route.subresource,
        query: url.searchParams,
        contentType: req.headers['content-type'] ?? '',
        accept: req.headers.accept ?? '',
        userAgent: req.headers['user-agent'] ?? '',
        body,
        user,
      },
      res,
      ctx,
    );
    if (reply === 'streaming') return 200;
    sendJson(res, reply.status, reply.body, reply.headers);
    return reply.status;
  };

  const listener: RequestListener = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake-kubernetes');
    const rec: KubeRequestRecord = { at: now(), method: req.method ?? 'GET', path: url.pathname + url.search, verb: 'discovery', resource: '', contentType: req.headers['content-type'], status: 0 };
    requests.push(rec);
    if (requests.length > MAX_RECORDED_REQUESTS) requests.splice(0, requests.length - MAX_RECORDED_REQUESTS);
    handle(req, res, rec)
      .then((status) => {
        rec.status = status;
      })
      .catch((err: unknown) => {
        if (err instanceof KubeError) {
          rec.status = err.status.code;
          sendJson(res, err.status.code, err.status, err.headers);
          return;
        }
        const message = err instanceof Error ? err.message : String(err);
        problems.push(`${req.method} ${url.pathname}: ${message}`);
        rec.status = 500;
        sendJson(res, 500, internalError(message).status);
      });
  };
  const certificate = options.tls === false ? undefined : await servingCertificate();
  const server: Server = certificate ? createHttpsServer({ key: certificate.key, cert: certificate.cert }, listener) : createHttpServer(listener);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `${certificate ? 'https' : 'http'}://127.0.0.1:${port}`;
  const caData = certificate && Buffer.from(certificate.cert).toString('base64');
  let bookmarkTimer: NodeJS.Timeout | undefined;
  if (options.bookmarkIntervalMs) {
    bookmarkTimer = setInterval(() => watches.forEach((w) => w.bookmark()), options.bookmarkIntervalMs);
    bookmarkTimer.unref();
  }

  const clientOptions = (o: KubeconfigOptions = {}) => clientOptionsFor(url, caData, o.token ?? authorizer.adminToken, o.namespace);
  const kubeconfig = (o: KubeconfigOptions = {}) => kubeconfigFor(url, caData, o.token ?? authorizer.adminToken, o.namespace);

  const emptyCounts = (): RequestCounts => ({ total: 0, writes: 0, byVerb: Object.fromEntries([...VERBS, 'discovery'].map((v) => [v, 0])) as RequestCounts['byVerb'], byResource: {} });

  const fake: FakeKubernetes = {
    url,
    adminToken: authorizer.adminToken,
    caCertificate: certificate?.cert,
    addServiceAccount: (sa) => authorizer.addServiceAccount(sa),
    kubeconfig,
    async writeKubeconfig(path, o) {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(path, kubeconfig(o), { mode: 0o600 });
      return path;
    },
    clientOptions,
    get: (apiVersion, kind, namespace, name) => store.get(resourceKey(typeFor(apiVersion, kind)), namespace, name),
    list: (apiVersion, kind, namespace) => store.list(resourceKey(typeFor(apiVersion, kind)), namespace),
    setStatus(apiVersion, kind, namespace, name, status) {
      const type = typeFor(apiVersion, kind);
      const obj = api.get(type, namespace, name);
      return api.forceWrite(type, { ...clone(obj), status: clone(status) } as StoredObject);
    },
    markDeploymentAvailable(namespace, name) {
      const type = typeFor('apps/v1', 'Deployment');
      const obj = api.get(type, namespace, name);
      const replicas = ((obj.spec ?? {}) as { replicas?: number }).replicas ?? 1;
      return api.forceWrite(type, { ...clone(obj), status: availableStatus(obj, replicas, now()) });
    },
    deleteObject(apiVersion, kind, namespace, name, propagationPolicy) {
      api.delete(typeFor(apiVersion, kind), namespace, name, { propagationPolicy, dryRun: false });
    },
    inject: (rule) => faults.push({ ...rule, left: rule.times ?? 1 }),
    clearFaults: () => void faults.splice(0),
    async pause() {
      for (const w of [...watches]) w.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
    async resume() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
    },
    bookmark: () => watches.forEach((w) => w.bookmark()),
    compact: () => store.compact(),
    closeWatches: () => [...watches].forEach((w) => w.close()),
    openWatches: () => watches.size,
    settle: () => controllers.idle(),
    requests,
    counts(since = 0) {
      const c = emptyCounts();
      for (const r of requests) {
        if (r.at < since) continue;
        c.total += 1;
        c.byVerb[r.verb] += 1;
        if (WRITE_VERBS.has(r.verb)) c.writes += 1;
        if (r.verb !== 'discovery') {
          const slot = (c.byResource[r.resource] ??= {});
          slot[r.verb] = (slot[r.verb] ?? 0) + 1;
        }
      }
      return c;
    },
    resetRequests: () => void requests.splice(0),
    problems,
    async close() {
      if (bookmarkTimer) clearInterval(bookmarkTimer);
      for (const w of [...watches]) w.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
  return fake;
}
