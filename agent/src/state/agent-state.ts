/**
 * What the agent remembers on disk, so a restart resumes without re-provisioning: per environment, the guest it
 * created (and a VMID it was about to create, written ahead of the clone), the guest's address, what it applied
 * (document hash, release, digest, URL); and the SSH host key pinned for each guest. One JSON file, replaced
 * atomically (write a temp file, fsync, rename), so a crash leaves the old state or the new one, never half.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { GuestRef } from '../proxmox/pve-client.js';

export interface AppliedState {
  /** Content hash of the desired-state document that was applied. */
  documentHash: string;
  digest: string;
  releaseId: string;
  url: string;
  at: string;
}

export interface EnvironmentState {
  app: string;
  env: string;
  /** The environment's unique id (`environment:<id>`), when the poll loop made it. */
  uid?: string;
  guest?: GuestRef;
  /** A VMID the agent asked Proxmox to create and may not have tagged yet (write-ahead, cleared once tagged). */
  pendingVmid?: number;
  address?: string;
  applied?: AppliedState;
  lastError?: { reason: string; message: string; at: string };
}

export interface AgentStateFile {
  version: 1;
  environments: Record<string, EnvironmentState>;
  /** OpenSSH public key line per guest, keyed `node/vmid`. */
  hostKeys: Record<string, string>;
}

export const hostKeyId = (g: GuestRef) => `${g.node}/${g.vmid}`;

const empty = (): AgentStateFile => ({ version: 1, environments: {}, hostKeys: {} });

export interface StateStore {
  file: string;
  read(): AgentStateFile;
  /** Applies `change` to a copy of the state and persists it atomically before returning it. */
  update(change: (draft: AgentStateFile) => void): Promise<AgentStateFile>;
}

export async function openStateStore(file: string): Promise<StateStore> {
  let current = empty();
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as AgentStateFile;
    if (parsed.version !== 1 || typeof parsed.environments !== 'object' || typeof parsed.hostKeys !== 'object') {
      throw new Error(`${file}: not an agent state file of version 1`);
    }
    current = parsed;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let queue: Promise<unknown> = Promise.resolve();
  const persist = async (next: AgentStateFile) => {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(next, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  };
  return {
    file,
    read: () => structuredClone(current),
    update(change) {
      const run = queue.then(async () => {
        const draft = structuredClone(current);
        change(draft);
        await persist(draft);
        current = draft;
        return structuredClone(draft);
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}
