/**
 * What the loop keeps on disk beside the state file: `desired.json` (the documents last received, so a restart while
 * the control plane is away still knows what should run) and `status.json` (the agent's view, which
 * `wharf agent status` prints). Both replaced atomically; status writes are coalesced.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { AgentDocument } from '@wharf/contracts';

export interface EnvironmentView {
  environmentId: number;
  app: string;
  env: string;
  documentHash: string;
  generation: number;
  digest: string | null;
  state: 'Applying' | 'Ready' | 'Failed' | 'TearingDown' | 'Deleted';
  reason: string | null;
  message: string;
  url: string | null;
  guest: { kind: string; node: string; vmid: number; address?: string } | null;
  updatedAt: string;
}

export interface AgentView {
  agent: { id: number; name: string; pool: string };
  controlPlane: { url: string; state: 'connecting' | 'connected' | 'unreachable' | 'refused'; lastContactAt: string | null; lastError: string | null };
  environments: EnvironmentView[];
  updatedAt: string;
}

export interface SavedDesired {
  hash: string;
  documents: AgentDocument[];
}

async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}

export const statusFile = (stateDir: string) => path.join(stateDir, 'status.json');

export function createLoopFiles(stateDir: string) {
  const desiredFile = path.join(stateDir, 'desired.json');
  let viewWrite: Promise<void> = Promise.resolve();
  let latest: AgentView | undefined;
  let queued = false;
  return {
    async readDesired(): Promise<SavedDesired | undefined> {
      try {
        return JSON.parse(await readFile(desiredFile, 'utf8')) as SavedDesired;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    writeDesired: (saved: SavedDesired) => writeAtomically(desiredFile, JSON.stringify(saved)),
    /** Writes the newest view; views that come while one is written are folded into the next write. */
    writeView(view: AgentView): Promise<void> {
      latest = structuredClone(view);
      if (queued) return viewWrite;
      queued = true;
      viewWrite = viewWrite.catch(() => undefined).then(async () => {
        queued = false;
        await writeAtomically(statusFile(stateDir), `${JSON.stringify(latest, null, 2)}\n`);
      });
      return viewWrite;
    },
    flush: () => viewWrite.catch(() => undefined),
  };
}

export type LoopFiles = ReturnType<typeof createLoopFiles>;

export async function readView(stateDir: string): Promise<AgentView | undefined> {
  try {
    return JSON.parse(await readFile(statusFile(stateDir), 'utf8')) as AgentView;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
