/**
 * What the poll loop calls per environment: make sure the environment's guest exists and runs (adopting one this
 * agent created earlier, from local state or from its tags), deploy a release to it over SSH, collect its logs, and
 * tear it down. Never acts on a guest without this agent's tags.
 */
import { AgentError, isAgentError } from '../errors.js';
import { deployRelease, collectLogs, type DeployResult, type RuntimeRelease } from '../deploy/deploy-release.js';
import { openSsh, type SshSession } from '../deploy/ssh-session.js';
import { agentTag, environmentKey, environmentTag, guestName, guestTags, type EnvironmentRef } from '../proxmox/guest-identity.js';
import type { GuestRef, PveClient } from '../proxmox/pve-client.js';
import { hostKeyId, type StateStore } from '../state/agent-state.js';

export interface QemuGuestConfig {
  kind: 'qemu';
  /** Template VMID per node: the agent places the guest on the node (among these) with the most free memory. */
  templates: Record<string, number>;
  /** Full clone (independent disk) instead of a linked clone of the template. */
  full: boolean;
  /** Target storage of a full clone (default: the template's). */
  storage?: string;
  /** cloud-init login user. */
  user: string;
  ipconfig0?: string;
}

export interface LxcGuestConfig {
  kind: 'lxc';
  /** Candidate nodes (default: every online node). */
  nodes?: string[];
  /** OS template volid, available on every candidate node (e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst). */
  ostemplate: string;
  storage: string;
  memoryMiB?: number;
  net0?: string;
}

export interface EnvironmentAgentConfig {
  agentId: string;
  /**
   * Resource pool every new guest goes into. With the token's VM privileges granted on /pool/<pool> only (see
   * minimumPrivileges), Proxmox itself keeps the agent away from every other guest.
   */
  pool?: string;
  guest: QemuGuestConfig | LxcGuestConfig;
  /** The agent's SSH key pair (OpenSSH format). */
  sshPrivateKey: string;
  sshPublicKey: string;
  sshPort?: number;
  appPort?: number;
  addressTimeoutMs?: number;
  healthTimeoutMs?: number;
  drainMs?: number;
}

export interface GuestInfo {
  guest: GuestRef;
  address: string;
  /** True when this call created the guest (false: it existed, from state or adopted by tags). */
  created: boolean;
}

export function createEnvironmentAgent(deps: { pve: PveClient; state: StateStore; config: EnvironmentAgentConfig }) {
  const { pve, state, config } = deps;
  const agentId = config.agentId;
  const sshUser = config.guest.kind === 'qemu' ? config.guest.user : 'root';
  // It ends up in a systemd unit's User= and in sshd's login: only a plain Linux user name.
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(sshUser)) throw new AgentError('InvalidRequest', `guest user must be a plain Linux user name, got ${JSON.stringify(sshUser)}`);
  const description = (ref: EnvironmentRef) =>
    `Managed by the Wharf agent for ${ref.app}/${ref.env}. wharf-agent=${agentTag(agentId)} wharf-env=${environmentTag(ref)}`;

  async function findExisting(ref: EnvironmentRef): Promise<GuestRef | undefined> {
    const key = environmentKey(ref);
    const owned = (await pve.ownedGuests(agentId)).get(key) ?? [];
    const remembered = state.read().environments[key];
    const fromState = remembered?.guest && owned.find((g) => g.vmid === remembered.guest!.vmid);
    const found = fromState ?? owned[0];
    if (found) return { kind: found.kind, node: found.node, vmid: found.vmid };
    // Crashed between clone and tagging: the description written at clone time names this agent and environment.
    const pending = remembered?.pendingVmid;
    if (pending !== undefined) {
      const g = (await pve.guests()).find((x) => x.vmid === pending && !x.template);
      if (g && g.tags.length === 0) {
        const cfg = await pve.config(g);
        if (String(cfg.description ?? '').includes(`wharf-agent=${agentTag(agentId)} wharf-env=${environmentTag(ref)}`)) {
          await pve.tag(g, guestTags(agentId, ref));
          return { kind: g.kind, node: g.node, vmid: g.vmid };
        }
      }
    }
    return undefined;
  }

  async function create(ref: EnvironmentRef): Promise<GuestRef> {
    const key = environmentKey(ref);
    const writeAhead = async (vmid: number) => {
      await state.update((s) => {
        s.environments[key] = { ...(s.environments[key] ?? { app: ref.app, env: ref.env }), pendingVmid: vmid };
      });
    };
    const g = config.guest;
    if (g.kind === 'qemu') {
      const choice = await pve.pickNode(Object.keys(g.templates));
      const guest = await pve.cloneTemplate({ kind: 'qemu', template: g.templates[choice.node]!, name: guestName(ref), full: g.full, storage: g.storage, pool: config.pool, description: description(ref), tags: guestTags(agentId, ref), onVmid: writeAhead });
      await pve.setCloudInit(guest, agentId, { user: g.user, sshKeys: [config.sshPublicKey], ipconfig0: g.ipconfig0 });
      return guest;
    }
    const choice = await pve.pickNode(g.nodes);
    return pve.createContainer({ node: choice.node, ostemplate: g.ostemplate, hostname: guestName(ref), storage: g.storage, sshKeys: [config.sshPublicKey], net0: g.net0, memoryMiB: g.memoryMiB, pool: config.pool, description: description(ref), tags: guestTags(agentId, ref), onVmid: writeAhead });
  }

  async function ensureGuest(ref: EnvironmentRef): Promise<GuestInfo> {
    const key = environmentKey(ref);
    let guest = await findExisting(ref);
    const created = !guest;
    if (!guest) guest = await create(ref);
    await state.update((s) => {
      const prev = s.environments[key];
      if (prev?.guest && prev.guest.vmid !== guest!.vmid) delete s.hostKeys[hostKeyId(prev.guest)];
      s.environments[key] = { ...(prev ?? { app: ref.app, env: ref.env }), app: ref.app, env: ref.env, ...(ref.uid ? { uid: ref.uid } : {}), guest, pendingVmid: undefined };
    });
    await pve.start(guest, agentId);
    const address = await pve.waitForAddress(guest, config.addressTimeoutMs);
    await state.update((s) => {
      s.environments[key]!.address = address;
    });
    return { guest, address, created };
  }

  /** Opens SSH to the guest; pins its host key on first contact, refuses a changed one. */
  async function connect(info: GuestInfo): Promise<SshSession> {
    const id = hostKeyId(info.guest);
    const pinned = state.read().hostKeys[id];
    const ssh = await openSsh({ host: info.address, port: config.sshPort ?? 22, username: sshUser, privateKey: config.sshPrivateKey, pinnedHostKey: pinned });
    if (!pinned) {
      await state.update((s) => {
        s.hostKeys[id] = ssh.hostKey;
      });
    }
    return ssh;
  }

  async function withSsh<T>(ref: EnvironmentRef, what: (ssh: SshSession, info: GuestInfo) => Promise<T>): Promise<T> {
    const info = await ensureGuest(ref);
    // A freshly booted guest may accept TCP before sshd is up: retry connection failures (not host key changes) a few times.
    let ssh: SshSession | undefined;
    for (let attempt = 0; !ssh; attempt++) {
      try {
        ssh = await connect(info);
      } catch (err) {
        if (!isAgentError(err, 'SshFailed') || attempt >= 10) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    try {
      return await what(ssh, info);
    } finally {
      ssh.close();
    }
  }

  return {
    ensureGuest,

    async deploy(ref: EnvironmentRef, release: RuntimeRelease, documentHash: string): Promise<DeployResult> {
      const key = environmentKey(ref);
      try {
        const result = await withSsh(ref, (ssh, info) =>
          deployRelease({ ssh, address: info.address, user: sshUser, envKey: key, appPort: config.appPort ?? 8080, description: `Wharf ${ref.app}/${ref.env}`, healthTimeoutMs: config.healthTimeoutMs, drainMs: config.drainMs }, release),
        );
        await state.update((s) => {
          s.environments[key]!.applied = { documentHash, digest: release.digest, releaseId: result.releaseId, url: result.url, at: new Date().toISOString() };
          delete s.environments[key]!.lastError;
        });
        return result;
      } catch (err) {
        const e = err instanceof AgentError ? err : new AgentError('DeployFailed', (err as Error).message, { cause: err });
        await state.update((s) => {
          s.environments[key] = { ...(s.environments[key] ?? { app: ref.app, env: ref.env }), lastError: { reason: e.reason, message: e.message, at: new Date().toISOString() } };
        });
        throw e;
      }
    },

    async logs(ref: EnvironmentRef, lines = 200): Promise<string> {
      return withSsh(ref, (ssh) => collectLogs(ssh, environmentKey(ref), lines));
    },

    /** Destroys the environment's guest (only one carrying this agent's tags) and forgets it. */
    async teardown(ref: EnvironmentRef): Promise<boolean> {
      const key = environmentKey(ref);
      const guest = await findExisting(ref);
      if (guest) await pve.destroy(guest, agentId);
      await state.update((s) => {
        const g = s.environments[key]?.guest;
        if (g) delete s.hostKeys[hostKeyId(g)];
        delete s.environments[key];
      });
      return guest !== undefined;
    },
  };
}

export type EnvironmentAgent = ReturnType<typeof createEnvironmentAgent>;
