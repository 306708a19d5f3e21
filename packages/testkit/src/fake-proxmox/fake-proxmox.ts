/**
 * A strict fake of the Proxmox VE API (api2/json) on loopback HTTPS with a fresh self-signed certificate. Every
 * request is checked against PVE's published API description (schema/pve-api.json): an unknown path or method
 * answers 501 "Method '… …' not implemented", a parameter that is unknown, missing or malformed 400 "Parameter
 * verification failed." with PVE's `{"errors":{param: msg},"data":null}`, a missing or wrong API token 401 with
 * the reason in the status line, a privilege the token lacks 403 "Permission check failed (path, privilege)".
 * Bodies must be form-encoded; answers use PVE's `{data: …}` envelope; asynchronous operations return UPIDs whose
 * tasks end with an `exitstatus`. Guests are real: starting one boots a real sshd (guest-sshd.ts).
 *
 * Against a real Proxmox VE nothing here is needed: point the agent at https://HOST:8006 with an API token and the
 * node certificate's SHA-256 fingerprint (see the agent's docs).
 */
import { randomInt } from 'node:crypto';
import { mkdtemp, chmod, rm, mkdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { clusterOperations } from './cluster-operations.js';
import { guestOperations } from './guest-operations.js';
import { ensureOpenSshServer, replaceHostKey, startGuestSshd } from './guest-sshd.js';
import { lxcOperations } from './lxc-operations.js';
import { PveError, type GuestLifecycle, type Operation, type OperationContext } from './operation-context.js';
import { checkParams } from './pve-params.js';
import { checkPermission, effectiveAcl, type AclEntry } from './pve-permissions.js';
import { createPveSchemaIndex } from './pve-schema.js';
import { qemuOperations } from './qemu-operations.js';
import type { PveMethod } from './schema/pve-schema-types.js';
import { FakeClusterState, type FakeGuest, type FakeNode } from './state.js';
import { TaskRegistry } from './tasks.js';
import { createSelfSignedCertificate } from './tls-certificate.js';

export interface FakeToken {
  /** USER@REALM!TOKENID */
  id: string;
  secret: string;
  /** The token's effective privileges (for a privilege-separated token: the intersection PVE computes). */
  acl: AclEntry[];
}

export interface FakeNodeOptions {
  name: string;
  memoryGiB?: number;
  /** Memory the host itself uses, GiB. */
  usedGiB?: number;
  /** Storage ids on this node (default local and local-lvm), 100 GiB each. */
  storages?: string[];
}

export interface FakeTemplateOptions {
  vmid: number;
  node: string;
  name: string;
  kind?: 'qemu' | 'lxc';
  storage?: string;
  /** false: the template has no guest agent configured (network-get-interfaces answers 500). */
  agent?: boolean;
  memoryMiB?: number;
  pool?: string;
}

export interface FakeProxmoxOptions {
  nodes?: FakeNodeOptions[];
  templates?: FakeTemplateOptions[];
  /** Container OS templates (volids such as local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst) per node. */
  osTemplates?: { node: string; volid: string }[];
  tokens: FakeToken[];
  /** Resource pools that exist (a clone or container may be placed in one with `pool`). */
  pools?: string[];
  /** Simulated boot: the guest agent (or a container's DHCP) reports no address until this long after start. */
  bootDelayMs?: number;
  /** Task status polls answered 'running' before a finished task reports 'stopped' (default 1). */
  taskPollsWhileRunning?: number;
}

export interface RecordedPveRequest {
  method: string;
  path: string;
  status: number;
  reason: string;
  params: Record<string, string>;
}

export type ProxyStatus = 595 | 596 | 597 | 598 | 599;

export interface FakeProxmox {
  /** https://127.0.0.1:PORT (the API lives under /api2/json). */
  url: string;
  /** SHA-256 fingerprint of the fake node's certificate, as PVE's UI shows it (AB:CD:…). */
  fingerprint256: string;
  state: FakeClusterState;
  requests: RecordedPveRequest[];
  /** Requests PVE would serve that this fake does not implement. Tests assert it stays empty. */
  problems: string[];
  /** The next `times` clone/create requests find their new VMID taken by someone else first (a lost nextid race). */
  loseVmidRace(times?: number): void;
  /** The next `times` requests through the proxy to `node` (whose API path matches `only`) fail with a 595–599 status. */
  failProxy(node: string, status: ProxyStatus, times?: number, only?: RegExp): void;
  /** Replaces a guest's SSH host key (a reinstalled guest, or someone in the middle); applies at its next boot. */
  replaceHostKey(vmid: number): Promise<void>;
  /** Restarts a running guest's sshd so a replaced host key takes effect. */
  rebootSshd(vmid: number): Promise<void>;
  close(): Promise<void>;
}

const PROXY_REASON: Record<ProxyStatus, string> = {
  595: 'Errors during connection establishment, proxy handshake: No route to host',
  596: 'Connection timed out',
  597: 'Connection reset by peer',
  598: 'Broken pipe',
  599: 'Too many redirections',
};

const GiB = 1024 ** 3;

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new PveError(413, 'request entity too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A loopback /24 of our own: each guest gets 127.A.B.n and listens on port 22 there, like a real machine. */
async function pickLoopbackNet(): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const net = `127.${randomInt(64, 250)}.${randomInt(1, 250)}`;
    const free = await new Promise<boolean>((resolve) => {
      const s = createTcpServer();
      s.once('error', () => resolve(false));
      s.listen(22, `${net}.1`, () => s.close(() => resolve(true)));
    });
    if (free) return net;
  }
  throw new Error('port 22 is taken on every loopback address tried: is an sshd listening on 0.0.0.0:22?');
}

export async function startFakeProxmox(options: FakeProxmoxOptions): Promise<FakeProxmox> {
  if (process.getuid?.() !== 0) {
    throw new Error("the fake Proxmox needs root: its guests are real sshd processes in their own namespaces, on port 22 of loopback addresses (run the tests as root, as .ci/run does)");
  }
  await ensureOpenSshServer();
  const index = createPveSchemaIndex();
  const state = new FakeClusterState();
  const tasks = new TaskRegistry(options.taskPollsWhileRunning ?? 1);
  const root = await mkdtemp(path.join(tmpdir(), 'wharf-fake-pve-'));
  await chmod(root, 0o755);
  const net = await pickLoopbackNet();
  let nextHost = 1;
  const uidBase = 2_000_000_000 + randomInt(0, 100_000) * 1000;
  const requests: RecordedPveRequest[] = [];
  const problems: string[] = [];
  let vmidRaces = 0;
  const proxyFaults: { node: string; status: ProxyStatus; left: number; only?: RegExp }[] = [];

  for (const p of options.pools ?? []) state.pools.add(p);
  for (const n of options.nodes ?? [{ name: 'pve1' }]) {
    const node: FakeNode = { name: n.name, online: true, maxmem: (n.memoryGiB ?? 64) * GiB, baseMem: (n.usedGiB ?? 4) * GiB, maxcpu: 8, storages: new Map() };
    for (const id of n.storages ?? ['local', 'local-lvm']) node.storages.set(id, { id, total: 100 * GiB, used: 10 * GiB, full: false, volumes: new Set() });
    state.nodes.set(n.name, node);
  }
  for (const t of options.osTemplates ?? []) {
    const storage = state.node(t.node)?.storages.get(t.volid.split(':')[0]!);
    if (!storage) throw new Error(`fake Proxmox: OS template ${t.volid} names a storage node ${t.node} does not have`);
    storage.volumes.add(t.volid);
  }
  for (const t of options.templates ?? []) {
    const storage = t.storage ?? 'local-lvm';
    const kind = t.kind ?? 'qemu';
    const config: Record<string, string> =
      kind === 'qemu'
        ? {
            name: t.name,
            memory: String(t.memoryMiB ?? 1024),
            cores: '2',
            ostype: 'l26',
            scsihw: 'virtio-scsi-single',
            scsi0: `${storage}:base-${t.vmid}-disk-0,size=8G`,
            ide2: `${storage}:cloudinit,media=cdrom`,
            net0: 'virtio=BC:24:11:00:00:01,bridge=vmbr0',
            boot: 'order=scsi0',
            ...(t.agent === false ? {} : { agent: '1' }),
          }
        : { hostname: t.name, memory: String(t.memoryMiB ?? 512), rootfs: `${storage}:base-${t.vmid}-disk-0,size=8G`, net0: 'name=eth0,bridge=vmbr0,ip=dhcp,hwaddr=BC:24:11:00:00:02', unprivileged: '1' };
    state.guests.set(t.vmid, { vmid: t.vmid, kind, node: t.node, config, template: true, status: 'stopped', silent: false, pool: t.pool });
  }

  const lifecycle: GuestLifecycle = {
    async boot(g: FakeGuest) {
      g.dir ??= path.join(root, 'guests', String(g.vmid));
      await mkdir(g.dir, { recursive: true });
      await chmod(path.join(root, 'guests'), 0o755);
      g.address ??= `${net}.${nextHost++}`;
      g.uid ??= uidBase + g.vmid;
      const user = g.kind === 'qemu' ? (g.config.ciuser ?? 'debian') : 'root';
      if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw new Error(`cloud-init: invalid user name '${user}'`);
      const keys = g.kind === 'qemu' ? decodeURIComponent(g.config.sshkeys ?? '') : (g.authorizedKeys ?? '');
      const hostname = g.config.name ?? g.config.hostname ?? `guest-${g.vmid}`;
      g.sshd = await startGuestSshd({ dir: g.dir, hostname, address: g.address, port: 22, user, uid: g.uid, authorizedKeys: keys });
      g.startedAt = Date.now();
    },
    async halt(g: FakeGuest) {
      await g.sshd?.stop();
      g.sshd = undefined;
      g.startedAt = undefined;
    },
    async destroy(g: FakeGuest) {
      await lifecycle.halt(g);
      if (g.dir) await rm(g.dir, { recursive: true, force: true });
    },
  };

  const bootDelayMs = options.bootDelayMs ?? 0;
  const operations: Record<string, Operation> = {
    ...clusterOperations,
    ...guestOperations('qemu'),
    ...guestOperations('lxc'),
    ...qemuOperations({ bootDelayMs }),
    ...lxcOperations({ bootDelayMs }),
  };

  const authenticate = (header: string | undefined): { user: string; token: FakeToken } => {
    if (!header) throw new PveError(401, 'No ticket');
    const m = /^PVEAPIToken=([^!\s]+@[^!\s]+)!([^=\s]+)=(\S+)$/.exec(header);
    if (!m) throw new PveError(401, 'No ticket');
    const id = `${m[1]}!${m[2]}`;
    const token = options.tokens.find((t) => t.id === id);
    if (!token) throw new PveError(401, `no such token '${m[2]}' for user '${m[1]}'`);
    if (token.secret !== m[3]) throw new PveError(401, 'invalid token value!');
    return { user: id, token };
  };

  const handle = async (req: IncomingMessage, rec: RecordedPveRequest): Promise<unknown> => {
    const url = new URL(req.url ?? '/', 'https://fake-pve');
    const method = (req.method ?? 'GET').toUpperCase();
    if (!url.pathname.startsWith('/api2/json/')) throw new PveError(404, 'Not found');
    const apiPath = url.pathname.slice('/api2/json'.length);
    rec.path = apiPath;
    const { user, token: rawToken } = authenticate(req.headers.authorization);
    const token = { ...rawToken, acl: effectiveAcl(rawToken.acl, state.guests.values()) };
    const matched = index.match(apiPath);
    const op = matched?.operations[method as PveMethod];
    if (!matched || !op) throw new PveError(501, `Method '${method} ${apiPath}' not implemented`);
    const params: Record<string, string> = {};
    for (const [k, v] of url.searchParams) params[k] = v;
    const raw = await readBody(req, 1024 * 1024);
    if (raw.length > 0) {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (type !== 'application/x-www-form-urlencoded') throw new PveError(415, `Unsupported content type '${type}' (the fake expects form-encoded bodies)`);
      for (const [k, v] of new URLSearchParams(raw)) {
        if (params[k] !== undefined) throw new PveError(400, 'Parameter verification failed.', { [k]: 'duplicate parameter (in query and body)' });
        params[k] = v;
      }
    }
    rec.params = { ...params };
    for (const [k, v] of Object.entries(matched.params)) {
      if (params[k] !== undefined) throw new PveError(400, 'Parameter verification failed.', { [k]: 'duplicate parameter (in path and request)' });
      params[k] = v;
    }
    // pveproxy forwards /nodes/{node}/… to that node before the handler there checks parameters and privileges.
    const nodeName = matched.params.node;
    if (nodeName) {
      const fault = proxyFaults.find((f) => f.left > 0 && f.node === nodeName && (!f.only || f.only.test(apiPath)));
      if (fault) {
        fault.left -= 1;
        throw new PveError(fault.status, PROXY_REASON[fault.status]);
      }
      if (state.node(nodeName)?.online === false) throw new PveError(595, PROXY_REASON[595]);
    }
    const errors = checkParams(op, params);
    if (errors) throw new PveError(400, 'Parameter verification failed.', errors);
    const failed = checkPermission(op.permissions, token.acl, params);
    if (failed) throw new PveError(403, `Permission check failed ${failed}`);
    const key = `${method} ${matched.template}`;
    if (vmidRaces > 0 && (key.endsWith('/clone') || key === 'POST /nodes/{node}/lxc')) {
      const taken = Number(params.newid ?? params.vmid);
      if (!state.guests.has(taken)) {
        vmidRaces -= 1;
        state.guests.set(taken, { vmid: taken, kind: 'qemu', node: nodeName ?? 'pve1', config: { name: 'someone-elses-vm', memory: '512' }, template: false, status: 'stopped', silent: false });
      }
    }
    const impl = operations[key];
    if (!impl) {
      problems.push(`${key} is in the PVE API but not implemented by the fake`);
      throw new PveError(501, `fake Proxmox does not implement ${key}`);
    }
    const ctx: OperationContext = {
      state,
      tasks,
      lifecycle,
      params,
      user,
      acl: token.acl,
      task: (node, type, id, work) => tasks.start(node, type, id, user, work),
    };
    return impl(ctx);
  };

  const respond = (res: ServerResponse, status: number, reason: string, body: unknown) => {
    const text = JSON.stringify(body);
    // PVE puts the message in the status line; a reason phrase must be one line of visible characters.
    res.writeHead(status, reason.replace(/[^\x20-\x7e]+/g, ' ').trim() || 'OK', { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const cert = await createSelfSignedCertificate('pve1.fake.invalid');
  const server = createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    const rec: RecordedPveRequest = { method: req.method ?? 'GET', path: req.url ?? '/', status: 0, reason: '', params: {} };
    requests.push(rec);
    handle(req, rec)
      .then(async (data) => {
        rec.status = 200;
        rec.reason = 'OK';
        respond(res, 200, 'OK', { data: data === undefined ? null : await data });
      })
      .catch((err: unknown) => {
        const e = err instanceof PveError ? err : new PveError(500, (err as Error).message);
        rec.status = e.status;
        rec.reason = e.message;
        respond(res, e.status, e.message, e.errors ? { errors: e.errors, data: null } : { data: null });
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `https://127.0.0.1:${port}`,
    fingerprint256: cert.fingerprint256,
    state,
    requests,
    problems,
    loseVmidRace(times = 1) {
      vmidRaces += times;
    },
    failProxy(node, status, times = 1, only) {
      proxyFaults.push({ node, status, left: times, only });
    },
    async replaceHostKey(vmid) {
      const g = state.guests.get(vmid);
      if (!g?.dir) throw new Error(`fake Proxmox: guest ${vmid} has never booted`);
      await replaceHostKey({ dir: g.dir, hostname: g.config.name ?? `guest-${vmid}` });
    },
    async rebootSshd(vmid) {
      const g = state.guests.get(vmid);
      if (!g || g.status !== 'running') throw new Error(`fake Proxmox: guest ${vmid} is not running`);
      await lifecycle.halt(g);
      await lifecycle.boot(g);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await tasks.settle();
      for (const g of state.guests.values()) await lifecycle.halt(g);
      await rm(root, { recursive: true, force: true });
    },
  };
}
