/** Container operations: list, create from an OS template (with ssh-public-keys), clone, and interfaces. */
import { guestOf, nodeOf, PveError, requirePrivilege, type Operation } from './operation-context.js';
import { hasPrivilege } from './pve-permissions.js';
import { cloneGuest, fullStorageError, randomMac, requireBridge, storageOn } from './qemu-operations.js';
import { normalizeTags, type FakeGuest } from './state.js';

export function lxcOperations(options: { bootDelayMs: number }): Record<string, Operation> {
  return {
    'GET /nodes/{node}/lxc': (ctx) =>
      [...ctx.state.guests.values()]
        .filter((g) => g.kind === 'lxc' && g.node === ctx.params.node)
        .map((g) => ({ vmid: g.vmid, name: g.config.hostname, status: g.status, template: g.template ? 1 : undefined, tags: g.config.tags })),

    'POST /nodes/{node}/lxc': (ctx) => {
      const node = nodeOf(ctx);
      const vmid = Number(ctx.params.vmid);
      const pool = ctx.params.pool;
      if (pool !== undefined && !ctx.state.pools.has(pool)) throw new PveError(500, `pool '${pool}' does not exist`);
      // VM.Allocate on /vms/{vmid}, or on the pool the container goes into.
      if (!(pool !== undefined && hasPrivilege(ctx.acl, `/pool/${pool}`, 'VM.Allocate'))) requirePrivilege(ctx, `/vms/${vmid}`, 'VM.Allocate');
      const existing = ctx.state.guests.get(vmid);
      if (existing) throw new PveError(500, `${existing.kind === 'qemu' ? 'VM' : 'CT'} ${vmid} already exists on node '${existing.node}'`);
      const ostemplate = ctx.params.ostemplate;
      if (!ostemplate) throw new PveError(400, 'Parameter verification failed.', { ostemplate: 'property is missing and it is not optional' });
      const [templateStorage] = ostemplate.split(':');
      const tmplStore = storageOn(node, templateStorage!);
      if (!['Datastore.AllocateSpace', 'Datastore.Audit'].some((p) => hasPrivilege(ctx.acl, `/storage/${templateStorage}`, p))) {
        throw new PveError(403, `Permission check failed (/storage/${templateStorage}, Datastore.AllocateSpace|Datastore.Audit)`);
      }
      if (!tmplStore.volumes.has(ostemplate)) throw new PveError(500, `volume '${ostemplate}' does not exist`);
      const rootfsStorage = (ctx.params.rootfs ?? '').split(':')[0] || ctx.params.storage || 'local';
      const storage = storageOn(node, rootfsStorage);
      requirePrivilege(ctx, `/storage/${rootfsStorage}`, 'Datastore.AllocateSpace');
      requireBridge(ctx, ctx.params.net0);
      const config: Record<string, string> = { arch: 'amd64', ostype: 'debian', memory: ctx.params.memory ?? '512', rootfs: `${rootfsStorage}:vm-${vmid}-disk-0,size=8G` };
      for (const key of ['hostname', 'cores', 'description', 'onboot', 'unprivileged', 'swap', 'nameserver', 'searchdomain']) if (ctx.params[key] !== undefined) config[key] = ctx.params[key]!;
      if (ctx.params.net0) config.net0 = ctx.params.net0.includes('hwaddr=') ? ctx.params.net0 : `${ctx.params.net0},hwaddr=${randomMac()}`;
      if (ctx.params.tags) config.tags = normalizeTags(ctx.params.tags);
      const guest: FakeGuest = { vmid, kind: 'lxc', node: node.name, config, template: false, status: 'stopped', lock: 'create', silent: false, authorizedKeys: ctx.params['ssh-public-keys'] ?? '', pool };
      ctx.state.guests.set(vmid, guest);
      return ctx.task(node.name, 'vzcreate', String(vmid), async (log) => {
        log(`extracting archive '${ostemplate}'`);
        if (storage.full) {
          ctx.state.guests.delete(vmid);
          throw new Error(`unable to create CT ${vmid} - ${fullStorageError(vmid)}`);
        }
        storage.used += 8 * 1024 ** 3;
        delete guest.lock;
        if (ctx.params.start === '1') {
          await ctx.lifecycle.boot(guest);
          guest.status = 'running';
        }
      }).upid;
    },

    'POST /nodes/{node}/lxc/{vmid}/clone': (ctx) => cloneGuest(ctx, guestOf(ctx, 'lxc'), 'lxc'),

    'GET /nodes/{node}/lxc/{vmid}/interfaces': (ctx) => {
      const g = guestOf(ctx, 'lxc');
      if (g.status !== 'running') throw new PveError(500, `CT ${g.vmid} not running`);
      const booted = g.startedAt !== undefined && Date.now() - g.startedAt >= options.bootDelayMs;
      const hwaddr = /hwaddr=([0-9A-F:]+)/i.exec(g.config.net0 ?? '')?.[1]?.toLowerCase() ?? '00:00:00:00:00:01';
      return [
        { name: 'lo', hwaddr: '00:00:00:00:00:00', inet: '127.0.0.1/8', inet6: '::1/128' },
        { name: 'eth0', hwaddr, ...(g.silent || !booted || !g.address ? {} : { inet: `${g.address}/8` }), inet6: 'fe80::be24:11ff:fe00:1/64' },
      ];
    },
  };
}
