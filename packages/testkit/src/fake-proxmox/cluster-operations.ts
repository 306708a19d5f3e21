/** /version, /cluster/*, /nodes, node status, storage status, tasks and /access/permissions. */
import { nodeOf, PveError, type Operation, type OperationContext } from './operation-context.js';
import { hasPrivilege } from './pve-permissions.js';
import { guestMemory, type FakeGuest, type FakeNode } from './state.js';

function nodeResource(ctx: OperationContext, n: FakeNode) {
  return {
    id: `node/${n.name}`,
    type: 'node',
    node: n.name,
    status: n.online ? 'online' : 'offline',
    ...(n.online ? { maxmem: n.maxmem, mem: ctx.state.memUsed(n), maxcpu: n.maxcpu, cpu: 0.02, uptime: 86_400 } : {}),
    level: '',
  };
}

function guestResource(ctx: OperationContext, g: FakeGuest) {
  const online = ctx.state.node(g.node)?.online ?? false;
  return {
    id: `${g.kind}/${g.vmid}`,
    type: g.kind,
    vmid: g.vmid,
    node: g.node,
    name: g.config.name ?? g.config.hostname ?? `${g.kind === 'qemu' ? 'VM' : 'CT'} ${g.vmid}`,
    status: online ? g.status : 'unknown',
    template: g.template ? 1 : 0,
    maxmem: guestMemory(g),
    mem: g.status === 'running' ? guestMemory(g) / 2 : 0,
    ...(g.config.tags ? { tags: g.config.tags } : {}),
    ...(g.lock ? { lock: g.lock } : {}),
    ...(g.pool ? { pool: g.pool } : {}),
  };
}

const storageStatus = (s: { id: string; total: number; used: number; full: boolean }) => ({
  storage: s.id,
  total: s.total,
  used: s.full ? s.total : s.used,
  avail: s.full ? 0 : s.total - s.used,
  active: 1,
  enabled: 1,
  content: 'images,rootdir',
  type: 'lvmthin',
  shared: 0,
});

export const clusterOperations: Record<string, Operation> = {
  'GET /version': () => ({ version: '8.2.4', release: '8.2', repoid: 'faa83925c9641325' }),

  // Not a reservation: two clients asking at once get the same id; the later create/clone fails.
  'GET /cluster/nextid': (ctx) => {
    if (ctx.params.vmid !== undefined) {
      const vmid = Number(ctx.params.vmid);
      if (ctx.state.guests.has(vmid)) throw new PveError(400, 'Parameter verification failed.', { vmid: `VM ${vmid} already exists` });
      return vmid;
    }
    return String(ctx.state.nextFreeVmid());
  },

  'GET /cluster/resources': (ctx) => {
    const type = ctx.params.type;
    const out: unknown[] = [];
    if (!type || type === 'node') for (const n of ctx.state.nodes.values()) out.push(nodeResource(ctx, n));
    // Like PVE, list only the guests the token may see (VM.Audit), and storages it may use or audit.
    if (!type || type === 'vm') {
      for (const g of ctx.state.guests.values()) if (hasPrivilege(ctx.acl, `/vms/${g.vmid}`, 'VM.Audit')) out.push(guestResource(ctx, g));
    }
    if (!type || type === 'storage') {
      for (const n of ctx.state.nodes.values()) {
        for (const s of n.storages.values()) {
          if (!['Datastore.Audit', 'Datastore.AllocateSpace'].some((p) => hasPrivilege(ctx.acl, `/storage/${s.id}`, p))) continue;
          out.push({ id: `storage/${n.name}/${s.id}`, type: 'storage', node: n.name, storage: s.id, status: n.online ? 'available' : 'unknown', maxdisk: s.total, disk: s.full ? s.total : s.used });
        }
      }
    }
    return out;
  },

  'GET /nodes': (ctx) =>
    [...ctx.state.nodes.values()].map((n) => {
      const { id: _id, type: _type, ...row } = nodeResource(ctx, n);
      return row;
    }),

  'GET /nodes/{node}/status': (ctx) => {
    const n = nodeOf(ctx);
    const used = ctx.state.memUsed(n);
    return {
      memory: { total: n.maxmem, used, free: n.maxmem - used },
      cpu: 0.02,
      cpuinfo: { cpus: n.maxcpu, sockets: 1, model: 'Fake CPU' },
      uptime: 86_400,
      pveversion: 'pve-manager/8.2.4/faa83925c9641325',
      kversion: 'Linux 6.8.12-1-pve',
    };
  },

  'GET /nodes/{node}/storage': (ctx) => [...nodeOf(ctx).storages.values()].map(storageStatus),

  'GET /nodes/{node}/storage/{storage}/status': (ctx) => {
    const s = nodeOf(ctx).storages.get(ctx.params.storage!);
    if (!s) throw new PveError(500, `storage '${ctx.params.storage}' does not exist`);
    return storageStatus(s);
  },

  'GET /nodes/{node}/tasks/{upid}/status': (ctx) => {
    const task = ctx.tasks.tasks.get(ctx.params.upid!);
    if (!task || task.node !== ctx.params.node) throw new PveError(500, 'no such task');
    return ctx.tasks.status(task);
  },

  'GET /nodes/{node}/tasks/{upid}/log': (ctx) => {
    const task = ctx.tasks.tasks.get(ctx.params.upid!);
    if (!task || task.node !== ctx.params.node) throw new PveError(500, 'no such task');
    return task.log.map((t, i) => ({ n: i + 1, t }));
  },

  'GET /access/permissions': (ctx) => {
    const out: Record<string, Record<string, number>> = {};
    for (const e of ctx.acl) for (const p of e.privileges) (out[e.path] ??= {})[p] = 1;
    return out;
  },
};
