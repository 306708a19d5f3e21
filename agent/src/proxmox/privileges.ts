/**
 * The privileges the agent's API token needs, as ACL entries (grant with propagate). Proven sufficient by the tests:
 * the fake Proxmox evaluates PVE's own permission checks from the API schema (plus the checks PVE's handlers make in
 * code: storage, bridge, per-option config privileges) and the agent's tests run with exactly these entries.
 *
 * Scoped to a pool (recommended), the token can touch only the guests in that pool and clone only the templates
 * named: Proxmox enforces what the agent's tags promise. Unscoped, it holds the VM privileges on all of /vms.
 * On Proxmox VE 9, network-get-interfaces asks for VM.GuestAgent.Audit instead of VM.Monitor.
 */
export interface PrivilegeScope {
  /** The resource pool the agent creates guests in. */
  pool: string;
  /** VMIDs of the templates it clones. */
  templates: number[];
  /** Storages its guests' disks go to (and container OS templates come from). */
  storages: string[];
  /** Bridges of its guests' NICs (SDN zone `localnetwork` for plain Linux bridges). */
  bridges: string[];
}

export interface MinimumPrivilege {
  path: string;
  privileges: string[];
  why: string;
}

export const GUEST_PRIVILEGES = ['VM.Audit', 'VM.Allocate', 'VM.Clone', 'VM.Config.Cloudinit', 'VM.Config.Options', 'VM.PowerMgmt', 'VM.Monitor'] as const;

export function minimumPrivileges(scope?: PrivilegeScope): MinimumPrivilege[] {
  if (!scope) {
    return [
      { path: '/vms', privileges: [...GUEST_PRIVILEGES], why: 'read, clone and create guests, set cloud-init and tags, start/stop, delete, read the guest agent' },
      { path: '/storage', privileges: ['Datastore.AllocateSpace', 'Datastore.Audit'], why: 'disks of clones and containers, container OS templates' },
      { path: '/nodes', privileges: ['Sys.Audit'], why: 'free memory of each node (placement)' },
      { path: '/sdn/zones', privileges: ['SDN.Use'], why: "the bridge of each new guest's NIC (PVE 8)" },
    ];
  }
  return [
    { path: `/pool/${scope.pool}`, privileges: [...GUEST_PRIVILEGES], why: 'everything on the guests it creates (they go into this pool)' },
    ...scope.templates.map((t) => ({ path: `/vms/${t}`, privileges: ['VM.Audit', 'VM.Clone'], why: `clone template ${t}` })),
    ...scope.storages.map((s) => ({ path: `/storage/${s}`, privileges: ['Datastore.AllocateSpace', 'Datastore.Audit'], why: `disks on ${s}` })),
    { path: '/nodes', privileges: ['Sys.Audit'], why: 'free memory of each node (placement)' },
    ...scope.bridges.map((b) => ({ path: `/sdn/zones/localnetwork/${b}`, privileges: ['SDN.Use'], why: `NICs on ${b}` })),
  ];
}
