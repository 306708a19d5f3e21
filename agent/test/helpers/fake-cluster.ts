/** A fake two-node Proxmox cluster for the agent's tests, and the agent's client pointed at it. */
import ssh2 from 'ssh2';
import { startFakeProxmox, type AclEntry, type FakeProxmox, type FakeProxmoxOptions } from '@wharf/testkit';
import { minimumPrivileges } from '../../src/proxmox/privileges.js';
import { createPveHttp, type PveHttpOptions } from '../../src/proxmox/pve-http.js';
import { createPveClient, type PveClientOptions } from '../../src/proxmox/pve-client.js';

export const TOKEN_ID = 'wharf@pve!agent';
export const TOKEN_SECRET = '6f1c8d1e-2b7a-4d0e-9a55-5c1c0e0d7f42';
/** A token with every privilege on / (an administrator's), for setting up guests the agent must not touch. */
export const ADMIN_TOKEN = { id: 'root@pam!setup', secret: 'admin-secret' };
const ALL = ['VM.Audit', 'VM.Allocate', 'VM.Clone', 'VM.Config.Cloudinit', 'VM.Config.Options', 'VM.PowerMgmt', 'VM.Monitor', 'Datastore.AllocateSpace', 'Datastore.Audit', 'Sys.Audit', 'SDN.Use'];
export const OSTEMPLATE = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

export const minimumAcl = (scope?: Parameters<typeof minimumPrivileges>[0]): AclEntry[] => minimumPrivileges(scope).map((p) => ({ path: p.path, privileges: p.privileges }));

/** pve1 has less free memory than pve2; each has a VM template (9000 / 9001) and the container OS template. */
export async function startCluster(overrides: Partial<FakeProxmoxOptions> = {}): Promise<FakeProxmox> {
  return startFakeProxmox({
    nodes: [
      { name: 'pve1', memoryGiB: 32, usedGiB: 20 },
      { name: 'pve2', memoryGiB: 64, usedGiB: 8 },
    ],
    templates: [
      { vmid: 9000, node: 'pve1', name: 'debian-12-cloud' },
      { vmid: 9001, node: 'pve2', name: 'debian-12-cloud' },
      { vmid: 9100, node: 'pve2', name: 'no-agent-image', agent: false },
    ],
    osTemplates: [
      { node: 'pve1', volid: OSTEMPLATE },
      { node: 'pve2', volid: OSTEMPLATE },
    ],
    tokens: [{ id: TOKEN_ID, secret: TOKEN_SECRET, acl: minimumAcl() }, { ...ADMIN_TOKEN, acl: [{ path: '/', privileges: ALL }] }],
    ...overrides,
  });
}

export function adminClientFor(fake: FakeProxmox) {
  return clientFor(fake, { tokenId: ADMIN_TOKEN.id, tokenSecret: ADMIN_TOKEN.secret });
}

export function clientFor(fake: FakeProxmox, http: Partial<PveHttpOptions> = {}, options: PveClientOptions = {}) {
  return createPveClient(
    createPveHttp({ url: fake.url, tokenId: TOKEN_ID, tokenSecret: TOKEN_SECRET, fingerprint256: fake.fingerprint256, ...http }),
    { pollMs: 20, ...options },
  );
}

export function agentKeys(): { private: string; public: string } {
  const k = ssh2.utils.generateKeyPairSync('ed25519');
  return { private: k.private, public: k.public };
}
