/**
 * After a restart of Wharf: the runtimes a previous run left in the local target's state dir. The current instance
 * of an environment that is alive (its pid runs our work dir) and healthy at its recorded digest can be adopted;
 * every other one is stopped and its instance dir removed. Data dirs are always kept: the reconciler starts the
 * environment again on its own data (a teardown, not a restart, deletes data).
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { TargetEnvironment } from '@wharf/contracts';
import type { Logger } from 'pino';
import { DATA_DIR, IDENTITY_FILE } from './env-dirs.js';
import { commandLine, killTree, pidAlive } from './process-tree.js';
import { INSTANCE_FILE, type InstanceRecord, probeHealth } from './runtime-instance.js';

/** instance.json as written, also by earlier versions (which kept no repository, kind or stable data dir). */
type StoredRecord = Omit<InstanceRecord, 'repositoryId' | 'kind' | 'dataDir'> & Partial<Pick<InstanceRecord, 'repositoryId' | 'kind' | 'dataDir'>>;

export const CURRENT_FILE = 'current.json';
export const DESIRED_FILE = 'desired.json';

/**
 * Calls `adopt` for each runtime that can be adopted; stops the rest and removes their instance dirs. Returns the
 * environment ids adopted.
 */
export async function recoverLeftRuntimes(options: {
  envsDir: string;
  graceMs: number;
  log: Logger;
  adopt(record: InstanceRecord, desired: TargetEnvironment): void;
}): Promise<number[]> {
  const { envsDir, graceMs, log } = options;
  const adopted: number[] = [];
  for (const name of await readdir(envsDir).catch(() => [] as string[])) {
    const id = Number(name);
    if (!Number.isInteger(id)) continue;
    const dir = path.join(envsDir, name);
    const current = await readFile(path.join(dir, CURRENT_FILE), 'utf8')
      .then((t) => (JSON.parse(t) as { instanceId: string }).instanceId)
      .catch(() => undefined);
    for (const inst of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (!inst.isDirectory() || inst.name === DATA_DIR) continue;
      const workDir = path.join(dir, inst.name);
      const record = await readFile(path.join(workDir, INSTANCE_FILE), 'utf8')
        .then((t) => JSON.parse(t) as StoredRecord)
        .catch(() => undefined);
      const alive = record !== undefined && pidAlive(record.pid) && ((await commandLine(record.pid)) ?? '').includes(workDir);
      if (record && alive && inst.name === current) {
        const desired = await readFile(path.join(workDir, DESIRED_FILE), 'utf8')
          .then((t) => JSON.parse(t) as TargetEnvironment)
          .catch(() => null);
        const probe = await probeHealth(record.port);
        if (desired && probe.ok && probe.digest === record.digest) {
          options.adopt({ ...record, repositoryId: record.repositoryId ?? desired.repositoryId, kind: record.kind ?? desired.kind, dataDir: record.dataDir ?? path.join(dir, DATA_DIR) }, desired);
          adopted.push(id);
          log.info({ envId: id, pid: record.pid, port: record.port }, 'adopted a runtime left by the previous run');
          continue;
        }
      }
      if (record && alive) {
        log.warn({ envId: id, pid: record.pid }, 'stopping a runtime left by the previous run');
        await killTree(record.pid, graceMs);
      }
      await rm(workDir, { recursive: true, force: true });
    }
    if (!adopted.includes(id)) await rm(path.join(dir, CURRENT_FILE), { force: true });
    // A directory that never held an environment's data (a start that failed before it was recorded) goes.
    const left = await readdir(dir).catch(() => [] as string[]);
    if (!left.includes(IDENTITY_FILE) && !adopted.includes(id)) await rm(dir, { recursive: true, force: true });
  }
  return adopted;
}
