/**
 * The agent's Proxmox VE operations on top of the transport: pick a node, allocate a VMID, clone a template or
 * create a container, cloud-init, start, wait for the guest's address, shutdown/stop, delete, and list what this
 * agent owns. Every write to an existing guest first checks that the agent's tags are on it.
 */
import { AgentError, isAgentError } from '../errors.js';
import { sleep } from '../sleep.js';
import { environmentKeyOf, ownedBy, parseTags } from './guest-identity.js';
import type { PveHttp } from './pve-http.js';
import { pollDelay, waitForTask, type WaitOptions } from './pve-tasks.js';

export type GuestKind = 'qemu' | 'lxc';

export interface GuestRef {
  kind: GuestKind;
  node: string;
  vmid: number;
}

export interface ClusterGuest extends GuestRef {
  name: string;
  status: string;
  template: boolean;
  tags: string[];
}

export interface NodeChoice {
  node: string;
  freeMemory: number;
}

export interface CloudInit {
  /** The login user cloud-init creates (`ciuser`). */
  user: string;
  /** OpenSSH public keys, one per entry. */
  sshKeys: string[];
  /** `ipconfig0`, e.g. ip=dhcp or ip=10.0.0.5/24,gw=10.0.0.1. */
  ipconfig0?: string;
}

export interface PveClientOptions {
  /** Poll interval for tasks and the guest address. */
  pollMs?: number;
  taskTimeoutMs?: number;
  /** How often a lost VMID race is retried with a fresh nextid. */
  vmidAttempts?: number;
  now?: () => number;
}

const enc = encodeURIComponent;
const guestPath = (g: GuestRef) => `/nodes/${enc(g.node)}/${g.kind}/${g.vmid}`;

/**
 * Proxmox expects `sshkeys` URL-encoded inside the form body (its format `urlencoded` allows only
 * [-%a-zA-Z0-9_.!~*'()]): encodeURIComponent gives exactly that, spaces as %20, never '+'.
 */
export function encodeSshKeys(keys: readonly string[]): string {
  return encodeURIComponent(keys.map((k) => k.trim()).filter(Boolean).join('\n'));
}

export function createPveClient(http: PveHttp, options: PveClientOptions = {}) {
  const pollMs = options.pollMs ?? 500;
  const now = options.now ?? Date.now;
  const wait = (upid: string, what: string, extra: WaitOptions = {}) =>
    waitForTask(http, upid, what, { pollMs, timeoutMs: options.taskTimeoutMs, now, ...extra });

  async function guests(): Promise<ClusterGuest[]> {
    const rows = await http.call<{ vmid: number; type: string; node: string; name?: string; status: string; template?: number; tags?: string }[]>(
      'GET',
      '/cluster/resources',
      { type: 'vm' },
    );
    return rows
      .filter((r) => r.type === 'qemu' || r.type === 'lxc')
      .map((r) => ({ kind: r.type as GuestKind, node: r.node, vmid: r.vmid, name: r.name ?? '', status: r.status, template: r.template === 1, tags: parseTags(r.tags) }));
  }

  /** Refuses to act on a guest the agent did not create (tags checked on the live guest, not on our memory). */
  async function assertOwned(g: GuestRef, agentId: string): Promise<void> {
    const config = await http.call<{ tags?: string }>('GET', `${guestPath(g)}/config`);
    if (!ownedBy(config.tags, agentId)) {
      throw new AgentError('NotOwned', `${g.kind === 'qemu' ? 'VM' : 'CT'} ${g.vmid} on ${g.node} does not carry this agent's tags (${config.tags ?? 'no tags'}): the agent never changes a guest it did not create`);
    }
  }

  return {
    http,
    guests,
    assertOwned,

    /** Config of a guest (tags, description, …) without an ownership check: reading is harmless. */
    async config(g: GuestRef): Promise<Record<string, string | number>> {
      return http.call<Record<string, string | number>>('GET', `${guestPath(g)}/config`);
    },

    /** Tags a guest the agent created but could not tag before a crash (see the environment's pendingVmid). */
    async tag(g: GuestRef, tags: string[]): Promise<void> {
      await http.call('PUT', `${guestPath(g)}/config`, { tags: tags.join(';') });
    },

    async version(): Promise<string> {
      return (await http.call<{ version: string }>('GET', '/version')).version;
    },

    /** Online nodes (among `candidates`, when given) ordered by free memory, most first; unreachable ones skipped. */
    async nodesByFreeMemory(candidates?: readonly string[]): Promise<NodeChoice[]> {
      const nodes = await http.call<{ node: string; status: string }[]>('GET', '/nodes');
      const online = nodes.filter((n) => n.status === 'online' && (!candidates || candidates.includes(n.node)));
      const out: NodeChoice[] = [];
      for (const n of online) {
        try {
          const s = await http.call<{ memory: { free: number; total: number; used: number } }>('GET', `/nodes/${enc(n.node)}/status`);
          out.push({ node: n.node, freeMemory: s.memory.free ?? s.memory.total - s.memory.used });
        } catch (err) {
          if (!isAgentError(err, 'ProxmoxUnreachable')) throw err;
        }
      }
      return out.sort((a, b) => b.freeMemory - a.freeMemory);
    },

    async pickNode(candidates?: readonly string[]): Promise<NodeChoice> {
      const [best] = await this.nodesByFreeMemory(candidates);
      if (!best) {
        throw new AgentError('NoNodeAvailable', `no online Proxmox node${candidates ? ` among ${candidates.join(', ')}` : ''} answered: cannot place a guest`);
      }
      return best;
    },

    async nextId(): Promise<number> {
      return Number(await http.call<string | number>('GET', '/cluster/nextid'));
    },

    /**
     * `/cluster/nextid` is not a reservation: another client may take the id before our clone or create lands.
     * Runs `create(vmid)` with a fresh id until it does not fail with "already exists", up to `vmidAttempts`.
     */
    async withFreshVmid<T>(create: (vmid: number) => Promise<T>): Promise<T> {
      const attempts = options.vmidAttempts ?? 5;
      let last: unknown;
      for (let i = 0; i < attempts; i++) {
        const vmid = await this.nextId();
        try {
          return await create(vmid);
        } catch (err) {
          if (!isAgentError(err, 'VmidTaken')) throw err;
          last = err;
        }
      }
      throw new AgentError('VmidTaken', `lost the VMID race ${attempts} times in a row (last: ${(last as Error).message}); another client is creating guests as fast as we are`, { cause: last });
    },

    /** Finds the template by VMID; a missing one (or a non-template) is a TemplateNotFound for the user to fix. */
    async template(kind: GuestKind, vmid: number): Promise<ClusterGuest> {
      const t = (await guests()).find((g) => g.vmid === vmid);
      if (!t || t.kind !== kind) {
        throw new AgentError('TemplateNotFound', `template ${vmid} does not exist in the cluster${t ? ` (${t.vmid} is a ${t.kind === 'qemu' ? 'VM' : 'container'}, not a ${kind === 'qemu' ? 'VM' : 'container'})` : ''}: create it or fix the agent's template setting`);
      }
      if (!t.template) throw new AgentError('TemplateNotFound', `guest ${vmid} (${t.name}) on ${t.node} is not a template: convert it (qm template ${vmid}) or fix the agent's template setting`);
      return t;
    },

    /** Clones a template (linked by default) under a fresh VMID, tagged and named; waits for the clone task. */
    async cloneTemplate(input: { kind: GuestKind; template: number; name: string; full: boolean; storage?: string; pool?: string; description: string; tags: string[]; onVmid?: (vmid: number) => Promise<void> }): Promise<GuestRef> {
      const t = await this.template(input.kind, input.template);
      return this.withFreshVmid(async (newid) => {
        await input.onVmid?.(newid);
        let upid: string;
        try {
          upid = await http.call<string>('POST', `/nodes/${enc(t.node)}/${input.kind}/${t.vmid}/clone`, {
            newid,
            [input.kind === 'qemu' ? 'name' : 'hostname']: input.name,
            full: input.full,
            storage: input.full ? input.storage : undefined,
            pool: input.pool,
            description: input.description,
          });
        } catch (err) {
          if (isAgentError(err, 'GuestNotFound')) throw new AgentError('TemplateNotFound', `template ${t.vmid} disappeared from ${t.node}: ${err.message}`, { cause: err });
          throw err;
        }
        await wait(upid, `clone of template ${t.vmid} to ${newid}`);
        const guest = { kind: input.kind, node: t.node, vmid: newid };
        await http.call('PUT', `${guestPath(guest)}/config`, { tags: input.tags.join(';') });
        return guest;
      });
    },

    /** Creates a container from an OS template (containers take SSH keys at creation, not through cloud-init). */
    async createContainer(input: {
      node: string;
      ostemplate: string;
      hostname: string;
      storage: string;
      sshKeys: string[];
      net0?: string;
      memoryMiB?: number;
      pool?: string;
      description: string;
      tags: string[];
      onVmid?: (vmid: number) => Promise<void>;
    }): Promise<GuestRef> {
      return this.withFreshVmid(async (vmid) => {
        await input.onVmid?.(vmid);
        let upid: string;
        try {
          upid = await http.call<string>('POST', `/nodes/${enc(input.node)}/lxc`, {
            vmid,
            ostemplate: input.ostemplate,
            hostname: input.hostname,
            storage: input.storage,
            'ssh-public-keys': input.sshKeys.join('\n'),
            net0: input.net0 ?? 'name=eth0,bridge=vmbr0,ip=dhcp',
            memory: input.memoryMiB,
            unprivileged: true,
            pool: input.pool,
            description: input.description,
            tags: input.tags.join(';'),
          });
        } catch (err) {
          if (isAgentError(err, 'TemplateNotFound')) throw new AgentError('TemplateNotFound', `container template ${input.ostemplate} is missing on ${input.node}: download it (pveam download) or fix the agent's template setting`, { cause: err });
          throw err;
        }
        await wait(upid, `creation of container ${vmid}`);
        return { kind: 'lxc' as const, node: input.node, vmid };
      });
    },

    async setCloudInit(g: GuestRef, agentId: string, ci: CloudInit): Promise<void> {
      await assertOwned(g, agentId);
      const upid = await http.call<string | null>('POST', `${guestPath(g)}/config`, {
        ciuser: ci.user,
        sshkeys: encodeSshKeys(ci.sshKeys),
        ipconfig0: ci.ipconfig0 ?? 'ip=dhcp',
      });
      if (upid) await wait(upid, `cloud-init settings of ${g.vmid}`);
    },

    async start(g: GuestRef, agentId: string): Promise<void> {
      await assertOwned(g, agentId);
      const status = await http.call<{ status: string }>('GET', `${guestPath(g)}/status/current`);
      if (status.status === 'running') return;
      await wait(await http.call<string>('POST', `${guestPath(g)}/status/start`), `start of ${g.vmid}`);
    },

    /** ACPI shutdown, then a hard stop if the guest is still up after `timeoutSeconds`. */
    async shutdown(g: GuestRef, agentId: string, timeoutSeconds = 60): Promise<void> {
      await assertOwned(g, agentId);
      const status = await http.call<{ status: string }>('GET', `${guestPath(g)}/status/current`);
      if (status.status !== 'running') return;
      await wait(await http.call<string>('POST', `${guestPath(g)}/status/shutdown`, { timeout: timeoutSeconds, forceStop: true }), `shutdown of ${g.vmid}`);
    },

    async stop(g: GuestRef, agentId: string): Promise<void> {
      await assertOwned(g, agentId);
      await wait(await http.call<string>('POST', `${guestPath(g)}/status/stop`), `stop of ${g.vmid}`);
    },

    /** Stops (hard) if needed and destroys the guest with its disks; only guests this agent tagged. */
    async destroy(g: GuestRef, agentId: string): Promise<void> {
      await assertOwned(g, agentId);
      const status = await http.call<{ status: string }>('GET', `${guestPath(g)}/status/current`);
      if (status.status === 'running') await wait(await http.call<string>('POST', `${guestPath(g)}/status/stop`), `stop of ${g.vmid}`);
      const params = g.kind === 'qemu' ? { purge: true, 'destroy-unreferenced-disks': true } : { purge: true };
      await wait(await http.call<string>('DELETE', guestPath(g), params), `deletion of ${g.vmid}`);
    },

    /**
     * The guest's first IPv4 address on an interface other than `lo`, or undefined while it has none. The guest
     * reports it (guest agent, container interfaces): anything but a dotted quad is ignored.
     */
    async address(g: GuestRef): Promise<string | undefined> {
      const ip = await this.reportedAddress(g);
      return ip !== undefined && /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(ip) ? ip : undefined;
    },

    async reportedAddress(g: GuestRef): Promise<string | undefined> {
      if (g.kind === 'qemu') {
        const r = await http.call<{ result: { name: string; 'ip-addresses'?: { 'ip-address-type': string; 'ip-address': string }[] }[] }>(
          'GET',
          `${guestPath(g)}/agent/network-get-interfaces`,
        );
        for (const i of r.result) {
          if (i.name === 'lo') continue;
          const v4 = i['ip-addresses']?.find((a) => a['ip-address-type'] === 'ipv4');
          if (v4) return v4['ip-address'];
        }
        return undefined;
      }
      const ifaces = await http.call<{ name: string; inet?: string }[]>('GET', `${guestPath(g)}/interfaces`);
      return ifaces.find((i) => i.name !== 'lo' && i.inet)?.inet?.split('/')[0];
    },

    /** Polls the guest agent (or the container's interfaces) until an address shows up or `timeoutMs` passes. */
    async waitForAddress(g: GuestRef, timeoutMs = 180_000, signal?: AbortSignal): Promise<string> {
      const deadline = now() + timeoutMs;
      let lastProblem = 'no IPv4 address yet';
      for (let polls = 0; ; polls++) {
        try {
          const ip = await this.address(g);
          if (ip) return ip;
        } catch (err) {
          if (!isAgentError(err) || !['TaskFailed', 'ProxmoxUnreachable'].includes(err.reason)) throw err;
          lastProblem = (err.details.pveMessage as string | undefined) ?? err.message;
        }
        if (now() > deadline) {
          const hint = g.kind === 'qemu' ? 'is qemu-guest-agent installed and enabled in the template, and `agent: 1` set?' : 'does the container get an address from DHCP on its bridge?';
          throw new AgentError('GuestNoAddress', `${g.kind === 'qemu' ? 'VM' : 'CT'} ${g.vmid} on ${g.node} reported no IPv4 address within ${Math.round(timeoutMs / 1000)} s (${lastProblem}): ${hint}`, { details: { vmid: g.vmid, node: g.node } });
        }
        await sleep(pollDelay(polls, pollMs), signal);
      }
    },

    /** Guests this agent created, keyed by environment key (from their tags). Everything else is invisible here. */
    async ownedGuests(agentId: string): Promise<Map<string, ClusterGuest[]>> {
      const out = new Map<string, ClusterGuest[]>();
      for (const g of await guests()) {
        if (g.template || !ownedBy(g.tags.join(';'), agentId)) continue;
        const key = environmentKeyOf(g.tags.join(';'));
        if (!key) continue;
        out.set(key, [...(out.get(key) ?? []), g]);
      }
      return out;
    },
  };
}

export type PveClient = ReturnType<typeof createPveClient>;
