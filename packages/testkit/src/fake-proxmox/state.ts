/** The fake cluster: nodes, storages, guests (VMs and containers) and OS templates, as PVE's config filesystem holds them. */
import type { RunningGuestSshd } from './guest-sshd.js';

export type GuestKind = 'qemu' | 'lxc';

export interface FakeStorage {
  id: string;
  /** Bytes. */
  total: number;
  used: number;
  /** Fault: every allocation on this storage fails as a full volume group would. */
  full: boolean;
  /** Volumes (OS templates for containers) by volid, e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst. */
  volumes: Set<string>;
}

export interface FakeNode {
  name: string;
  /** Fault: the node cannot be reached from the one the client talks to (595 through PVE's proxy). */
  online: boolean;
  /** Bytes. */
  maxmem: number;
  /** Bytes used by the host itself, before guests. */
  baseMem: number;
  maxcpu: number;
  storages: Map<string, FakeStorage>;
}

export interface FakeGuest {
  vmid: number;
  kind: GuestKind;
  node: string;
  /** The config file's keys and values as PVE stores them (sshkeys URL-encoded, tags joined by ';'). */
  config: Record<string, string>;
  template: boolean;
  status: 'stopped' | 'running';
  /** Resource pool the guest belongs to: privileges granted on /pool/<pool> apply to it. */
  pool?: string;
  /** Set while a clone or create task runs. */
  lock?: string;
  /** Loopback address the guest's NIC gets when it boots (DHCP, in effect). */
  address?: string;
  /** Fault: the guest agent never answers (qemu) / the container never gets an address (lxc). */
  silent: boolean;
  /** Keys written into a container's root account at creation (`ssh-public-keys`); VMs take cloud-init's `sshkeys`. */
  authorizedKeys?: string;
  sshd?: RunningGuestSshd;
  /** Host directory holding the guest's "disk": its /etc, host keys and home directories. */
  dir?: string;
  /** Host uid its login user maps to. */
  uid?: number;
  startedAt?: number;
}

/** Memory a guest uses on its node while running, in bytes (config `memory` is MiB). */
export function guestMemory(g: FakeGuest): number {
  return Number(g.config.memory ?? (g.kind === 'lxc' ? 512 : 2048)) * 1024 * 1024;
}

export class FakeClusterState {
  readonly nodes = new Map<string, FakeNode>();
  readonly guests = new Map<number, FakeGuest>();
  readonly pools = new Set<string>();

  node(name: string): FakeNode | undefined {
    return this.nodes.get(name);
  }

  memUsed(node: FakeNode): number {
    let used = node.baseMem;
    for (const g of this.guests.values()) if (g.node === node.name && g.status === 'running') used += guestMemory(g);
    return used;
  }

  nextFreeVmid(from = 100): number {
    let id = from;
    while (this.guests.has(id)) id += 1;
    return id;
  }

  tags(g: FakeGuest): string[] {
    return (g.config.tags ?? '').split(/[;,\s]+/).filter(Boolean);
  }
}

/** PVE normalizes a tag list to ';'-separated, de-duplicated entries. */
export function normalizeTags(value: string): string {
  return [...new Set(value.split(/[;,\s]+/).filter(Boolean))].join(';');
}
