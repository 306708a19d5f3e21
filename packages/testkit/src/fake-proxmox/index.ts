export * from './fake-proxmox.js';
export { FakeClusterState, type FakeGuest, type FakeNode, type FakeStorage } from './state.js';
export type { AclEntry } from './pve-permissions.js';
export { ensureOpenSshServer } from './guest-sshd.js';
