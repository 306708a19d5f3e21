/** Guest operations shared by VMs and containers: status, start, shutdown, stop, delete, config reads and writes. */
import { assertUnlocked, guestOf, PveError, requirePrivilege, type Operation, type OperationContext } from './operation-context.js';
import { normalizeTags, type FakeGuest, type GuestKind } from './state.js';

const LABEL = { qemu: 'VM', lxc: 'CT' } as const;
const TASK = {
  qemu: { start: 'qmstart', shutdown: 'qmshutdown', stop: 'qmstop', destroy: 'qmdestroy', config: 'qmconfig' },
  lxc: { start: 'vzstart', shutdown: 'vzshutdown', stop: 'vzstop', destroy: 'vzdestroy', config: 'vzconfig' },
} as const;

/** Which privilege PVE's config handlers demand per key (qemu-server's check_vm_modify_config_perm, simplified). */
export function configPrivilege(key: string): string {
  if (/^(ci[a-z]*|sshkeys|ipconfig\d+|nameserver|searchdomain)$/.test(key)) return 'VM.Config.Cloudinit';
  if (/^(memory|balloon|shares)$/.test(key)) return 'VM.Config.Memory';
  if (/^(cores|sockets|cpu|cpulimit|cpuunits|vcpus)$/.test(key)) return 'VM.Config.CPU';
  if (/^net\d+$/.test(key)) return 'VM.Config.Network';
  if (/^(scsi|virtio|sata|ide|rootfs|mp)\d*$/.test(key)) return 'VM.Config.Disk';
  return 'VM.Config.Options';
}

function writeConfig(ctx: OperationContext, guest: FakeGuest): void {
  const { node: _n, vmid: _v, digest: _d, delete: del, skiplock: _s, ...values } = ctx.params;
  for (const key of Object.keys(values)) requirePrivilege(ctx, `/vms/${guest.vmid}`, configPrivilege(key));
  for (const key of (del ?? '').split(/[,;\s]+/).filter(Boolean)) {
    requirePrivilege(ctx, `/vms/${guest.vmid}`, configPrivilege(key));
    delete guest.config[key];
  }
  for (const [key, value] of Object.entries(values)) guest.config[key] = key === 'tags' ? normalizeTags(value) : value;
}

function digest(config: Record<string, string>): string {
  let h = 0;
  for (const ch of JSON.stringify(config)) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h.toString(16).padStart(40, '0');
}

export function guestOperations(kind: GuestKind): Record<string, Operation> {
  const base = `/nodes/{node}/${kind}/{vmid}`;
  const label = LABEL[kind];
  const tasks = TASK[kind];
  return {
    [`GET ${base}/config`]: (ctx) => {
      const g = guestOf(ctx, kind);
      return { ...g.config, ...(g.template ? { template: 1 } : {}), ...(g.lock ? { lock: g.lock } : {}), digest: digest(g.config) };
    },

    [`PUT ${base}/config`]: (ctx) => {
      const g = guestOf(ctx, kind);
      assertUnlocked(g);
      writeConfig(ctx, g);
      return null;
    },

    [`POST ${base}/config`]: (ctx) => {
      const g = guestOf(ctx, kind);
      assertUnlocked(g);
      writeConfig(ctx, g);
      return ctx.task(g.node, tasks.config, String(g.vmid), async () => {}).upid;
    },

    [`GET ${base}/status/current`]: (ctx) => {
      const g = guestOf(ctx, kind);
      return {
        vmid: g.vmid,
        status: g.status,
        name: g.config.name ?? g.config.hostname,
        ...(kind === 'qemu' ? { qmpstatus: g.status, agent: g.config.agent?.startsWith('1') ? 1 : 0 } : {}),
        ...(g.config.tags ? { tags: g.config.tags } : {}),
        ...(g.lock ? { lock: g.lock } : {}),
        ...(g.template ? { template: 1 } : {}),
        uptime: g.status === 'running' ? 1 : 0,
      };
    },

    [`POST ${base}/status/start`]: (ctx) => {
      const g = guestOf(ctx, kind);
      assertUnlocked(g);
      if (g.template) throw new PveError(500, `${label} ${g.vmid} is a template - cannot start`);
      if (g.status === 'running') throw new PveError(500, `${label} ${g.vmid} already running`);
      return ctx.task(g.node, tasks.start, String(g.vmid), async () => {
        await ctx.lifecycle.boot(g);
        g.status = 'running';
      }).upid;
    },

    [`POST ${base}/status/shutdown`]: (ctx) => {
      const g = guestOf(ctx, kind);
      assertUnlocked(g);
      return ctx.task(g.node, tasks.shutdown, String(g.vmid), async () => {
        if (g.status !== 'running') throw new Error(`${label} ${g.vmid} not running`);
        await ctx.lifecycle.halt(g);
        g.status = 'stopped';
      }).upid;
    },

    [`POST ${base}/status/stop`]: (ctx) => {
      const g = guestOf(ctx, kind);
      return ctx.task(g.node, tasks.stop, String(g.vmid), async () => {
        await ctx.lifecycle.halt(g);
        g.status = 'stopped';
      }).upid;
    },

    [`DELETE ${base}`]: (ctx) => {
      const g = guestOf(ctx, kind);
      assertUnlocked(g);
      if (g.status === 'running') throw new PveError(500, `${label} ${g.vmid} is running - destroy failed`);
      if (g.config.protection === '1') throw new PveError(500, `can't remove ${label} ${g.vmid} - protection mode enabled`);
      g.lock = 'destroyed';
      return ctx.task(g.node, tasks.destroy, String(g.vmid), async () => {
        await ctx.lifecycle.destroy(g);
        ctx.state.guests.delete(g.vmid);
      }).upid;
    },
  };
}
