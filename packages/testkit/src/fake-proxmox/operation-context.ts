/** What every implemented operation gets, and how it fails the way PVE fails. */
import type { AclEntry } from './pve-permissions.js';
import { checkPermission, hasPrivilege } from './pve-permissions.js';
import type { FakeClusterState, FakeGuest, FakeNode } from './state.js';
import type { FakeTask, TaskRegistry } from './tasks.js';

/** A PVE API error: the HTTP status, the message PVE puts in the status line, and per-parameter errors. */
export class PveError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, string>,
  ) {
    super(message);
  }
}

export interface GuestLifecycle {
  boot(guest: FakeGuest): Promise<void>;
  halt(guest: FakeGuest): Promise<void>;
  destroy(guest: FakeGuest): Promise<void>;
}

export interface OperationContext {
  state: FakeClusterState;
  tasks: TaskRegistry;
  lifecycle: GuestLifecycle;
  /** Query or form parameters plus path parameters. */
  params: Record<string, string>;
  /** The authenticated token: USER@REALM!TOKENID. */
  user: string;
  acl: readonly AclEntry[];
  /** Starts a worker task on `node` and returns its UPID (what PVE answers for asynchronous operations). */
  task(node: string, type: string, id: string, work: (log: (line: string) => void) => Promise<void>): FakeTask;
}

export type Operation = (ctx: OperationContext) => unknown;

export function nodeOf(ctx: OperationContext): FakeNode {
  const node = ctx.state.node(ctx.params.node!);
  if (!node) throw new PveError(500, `hostname lookup '${ctx.params.node}' failed - failed to get address info for: ${ctx.params.node}: Name or service not known`);
  return node;
}

const CONFIG_DIR = { qemu: 'qemu-server', lxc: 'lxc' } as const;

/** The guest a path names; PVE looks for its config file on that node only. */
export function guestOf(ctx: OperationContext, kind: FakeGuest['kind']): FakeGuest {
  const vmid = Number(ctx.params.vmid);
  const guest = ctx.state.guests.get(vmid);
  if (!guest || guest.kind !== kind || guest.node !== ctx.params.node) {
    throw new PveError(500, `Configuration file 'nodes/${ctx.params.node}/${CONFIG_DIR[kind]}/${vmid}.conf' does not exist`);
  }
  return guest;
}

export function assertUnlocked(guest: FakeGuest): void {
  if (guest.lock) throw new PveError(500, `VM is locked (${guest.lock})`);
}

/** An extra privilege check PVE's handlers make in code (beyond the schema's `permissions`). */
export function requirePrivilege(ctx: OperationContext, path: string, privilege: string): void {
  if (!hasPrivilege(ctx.acl, path, privilege)) throw new PveError(403, `Permission check failed (${path}, ${privilege})`);
}

export function requireCheck(ctx: OperationContext, permissions: Record<string, unknown>): void {
  const failed = checkPermission(permissions, ctx.acl, ctx.params);
  if (failed) throw new PveError(403, `Permission check failed ${failed}`);
}

export const bool = (v: string | undefined): boolean | undefined => (v === undefined ? undefined : v === '1');
