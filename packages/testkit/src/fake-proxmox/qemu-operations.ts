/** VM operations: list, clone (linked or full) and the guest agent's network-get-interfaces. */
import { randomBytes } from 'node:crypto';
import { guestOf, nodeOf, PveError, requirePrivilege, type Operation, type OperationContext } from './operation-context.js';
import type { FakeGuest, FakeNode, FakeStorage } from './state.js';

const DISK_KEYS = /^(scsi|virtio|sata|ide)\d+$/;

export function randomMac(): string {
  const b = randomBytes(5);
  return ['BC', ...[...b].map((x) => x.toString(16).padStart(2, '0').toUpperCase())].join(':');
}

/** The storage a guest's first real disk lives on (`local-lvm:base-9000-disk-0,size=8G` → local-lvm). */
export function diskStorage(config: Record<string, string>): string | undefined {
  for (const [key, value] of Object.entries(config)) {
    if ((DISK_KEYS.test(key) || key === 'rootfs') && !value.includes('cloudinit') && !value.includes('media=cdrom')) return value.split(':')[0];
  }
  return undefined;
}

/** The bridge of a net0-style value (`virtio=…,bridge=vmbr0` / `name=eth0,bridge=vmbr0,ip=dhcp`). */
export function bridgeOf(value: string | undefined): string | undefined {
  return value ? /(?:^|,)bridge=([^,]+)/.exec(value)?.[1] : undefined;
}

/** PVE 8 asks for SDN.Use on the bridge of every NIC a new guest gets. */
export function requireBridge(ctx: OperationContext, netValue: string | undefined): void {
  const bridge = bridgeOf(netValue);
  if (bridge) requirePrivilege(ctx, `/sdn/zones/localnetwork/${bridge}`, 'SDN.Use');
}

export function storageOn(node: FakeNode, id: string): FakeStorage {
  const s = node.storages.get(id);
  if (!s) throw new PveError(500, `storage '${id}' does not exist`);
  return s;
}

/** What lvcreate says when the volume group (or thin pool) has no room left. */
export function fullStorageError(vmid: number): string {
  return `lvcreate 'pve/vm-${vmid}-disk-0' error:   Volume group "pve" has insufficient free space (0 extents): 2048 required.`;
}

export function cloneGuest(ctx: OperationContext, src: FakeGuest, kind: FakeGuest['kind']): string {
  const label = kind === 'qemu' ? 'VM' : 'CT';
  const newid = Number(ctx.params.newid);
  const full = ctx.params.full !== undefined ? ctx.params.full === '1' : !src.template;
  if (!full && ctx.params.storage !== undefined) throw new PveError(500, "parameter 'storage' not allowed for linked clones");
  if (!full && !src.template) throw new PveError(500, `Linked clone feature is not supported for drive '${kind === 'qemu' ? 'scsi0' : 'rootfs'}'`);
  if (src.status === 'running' && !src.template) throw new PveError(500, `${label} ${src.vmid} is running, only templates or stopped guests can be cloned`);
  const sourceNode = nodeOf(ctx);
  const targetName = ctx.params.target ?? sourceNode.name;
  const target = ctx.state.node(targetName);
  if (!target) throw new PveError(500, `no such cluster node '${targetName}'`);
  const storageId = ctx.params.storage ?? diskStorage(src.config);
  if (!storageId) throw new PveError(500, `${label} ${src.vmid} has no disk to clone`);
  if (targetName !== sourceNode.name) throw new PveError(500, `can't clone ${label} to node '${targetName}' (${label} uses local storage)`);
  const storage = storageOn(target, storageId);
  const pool = ctx.params.pool;
  if (pool !== undefined && !ctx.state.pools.has(pool)) throw new PveError(500, `pool '${pool}' does not exist`);
  requirePrivilege(ctx, `/storage/${storageId}`, 'Datastore.AllocateSpace');
  requireBridge(ctx, src.config.net0);
  if (ctx.state.guests.has(newid)) {
    throw new PveError(500, kind === 'qemu' ? `unable to create VM ${newid}: config file already exists` : `unable to create CT ${newid}: config file already exists`);
  }
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(src.config)) {
    if (key === 'template') continue;
    if (/^net\d+$/.test(key)) config[key] = value.replace(/(virtio|e1000|hwaddr)=[0-9A-F:]+/i, `$1=${randomMac()}`);
    else if ((DISK_KEYS.test(key) || key === 'rootfs') && !value.includes('cloudinit')) config[key] = value.replace(/^[^:]+:(base-\d+-disk-\d+\/)?(base|vm)-\d+-disk-(\d+)/, `${storageId}:vm-${newid}-disk-$3`);
    else config[key] = value;
  }
  if (ctx.params.name) config.name = ctx.params.name;
  if (ctx.params.hostname) config.hostname = ctx.params.hostname;
  if (ctx.params.description) config.description = ctx.params.description;
  const guest: FakeGuest = { vmid: newid, kind, node: targetName, config, template: false, status: 'stopped', lock: 'clone', silent: src.silent, authorizedKeys: src.authorizedKeys, pool };
  ctx.state.guests.set(newid, guest);
  return ctx.task(sourceNode.name, kind === 'qemu' ? 'qmclone' : 'vzclone', String(src.vmid), async (log) => {
    log(`create ${full ? 'full' : 'linked'} clone of drive (${storageId})`);
    if (storage.full) {
      ctx.state.guests.delete(newid);
      throw new Error(`clone failed: ${fullStorageError(newid)}`);
    }
    storage.used += full ? 8 * 1024 ** 3 : 64 * 1024 ** 2;
    delete guest.lock;
  }).upid;
}

export interface QemuOptions {
  /** Wall-clock time after a start before the guest agent answers (a simulated boot). */
  bootDelayMs: number;
}

export function qemuOperations(options: QemuOptions): Record<string, Operation> {
  return {
    'GET /nodes/{node}/qemu': (ctx) =>
      [...ctx.state.guests.values()]
        .filter((g) => g.kind === 'qemu' && g.node === ctx.params.node)
        .map((g) => ({ vmid: g.vmid, name: g.config.name, status: g.status, template: g.template ? 1 : undefined, tags: g.config.tags, maxmem: Number(g.config.memory ?? 2048) * 1024 ** 2 })),

    'POST /nodes/{node}/qemu/{vmid}/clone': (ctx) => cloneGuest(ctx, guestOf(ctx, 'qemu'), 'qemu'),

    'GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces': (ctx) => {
      const g = guestOf(ctx, 'qemu');
      if (g.status !== 'running') throw new PveError(500, `VM ${g.vmid} is not running`);
      if (!g.config.agent || !/^(1|enabled=1)/.test(g.config.agent)) throw new PveError(500, 'No QEMU guest agent configured');
      const booted = g.startedAt !== undefined && Date.now() - g.startedAt >= options.bootDelayMs;
      if (g.silent || !booted || !g.address) throw new PveError(500, 'QEMU guest agent is not running');
      const mac = /(?:virtio|e1000)=([0-9A-F:]+)/i.exec(g.config.net0 ?? '')?.[1]?.toLowerCase() ?? '00:00:00:00:00:01';
      return {
        result: [
          { name: 'lo', 'hardware-address': '00:00:00:00:00:00', 'ip-addresses': [{ 'ip-address-type': 'ipv4', 'ip-address': '127.0.0.1', prefix: 8 }, { 'ip-address-type': 'ipv6', 'ip-address': '::1', prefix: 128 }] },
          { name: 'eth0', 'hardware-address': mac, 'ip-addresses': [{ 'ip-address-type': 'ipv4', 'ip-address': g.address, prefix: 8 }, { 'ip-address-type': 'ipv6', 'ip-address': 'fe80::be24:11ff:fe00:1', prefix: 64 }] },
        ],
      };
    },
  };
}
