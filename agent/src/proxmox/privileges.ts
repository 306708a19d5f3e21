/**
 * The privileges the agent's API token needs, per ACL path (grant with propagate). Proven sufficient by the tests:
 * the fake Proxmox evaluates PVE's own permission checks from the API schema and the agent's end-to-end test runs
 * with exactly these. On Proxmox VE 9, network-get-interfaces asks for VM.GuestAgent.Audit instead of VM.Monitor.
 */
export const MINIMUM_PRIVILEGES = [
  {
    path: '/vms',
    privileges: ['VM.Audit', 'VM.Allocate', 'VM.Clone', 'VM.Config.Cloudinit', 'VM.Config.Options', 'VM.PowerMgmt', 'VM.Monitor'],
    why: 'read, clone and create guests, set cloud-init and tags, start/stop, delete, read the guest agent',
  },
  { path: '/storage', privileges: ['Datastore.AllocateSpace', 'Datastore.Audit'], why: 'disks of clones and containers, container OS templates' },
  { path: '/nodes', privileges: ['Sys.Audit'], why: 'free memory of each node (placement)' },
  { path: '/sdn/zones', privileges: ['SDN.Use'], why: "the bridge of each new guest's NIC (PVE 8)" },
] as const;
