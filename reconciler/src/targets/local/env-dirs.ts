/**
 * What the local target keeps on disk for each environment, and who may touch it:
 *
 *   <stateDir>/envs/                       0711  Wharf's; runtimes may pass through, not list
 *   <stateDir>/envs/<id>/                  0710  Wharf's, the runtime group may pass through
 *     identity.json                        0600  tenant, repository, app, environment of this directory
 *     data/                                0700  the runtime user's: the stable data dir every version uses
 *     <instance>/                          0710  one version's start: its cwd
 *       config/                            0750  the version's config files (0640), readable by the runtime group
 *       stdout.log, stderr.log             0600  written through descriptors Wharf opens
 *       instance.json, desired.json        0600  what recovery reads after a restart
 *
 * When Wharf runs as root, "Wharf's" is root with the runtime user's group, and the data dir belongs to the runtime
 * user; otherwise everything is Wharf's user. A rollout replaces the instance; only a teardown removes `data/`.
 */
import { chmod, chown, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowFile } from '@wharf/contracts';
import type { Logger } from 'pino';
import type { LabelIdentity } from './host-label.js';
import type { RuntimeUser } from './runtime-user.js';

export const IDENTITY_FILE = 'identity.json';
export const DATA_DIR = 'data';

export interface EnvDirs {
  envsDir: string;
  envDir(id: number): string;
  dataDir(id: number): string;
  /** The env dir and its data dir, for this identity: a directory left by another identity is removed first. */
  prepareEnv(id: number, identity: LabelIdentity): Promise<void>;
  /** A fresh instance dir with the version's config files; returns the config dir and the file paths. */
  prepareInstance(id: number, instanceId: string, files: readonly WorkflowFile[]): Promise<{ workDir: string; configDir: string; configs: string[] }>;
  /** True when the data dir holds anything (a runtime that does not say whether it is stateful is taken to be). */
  hasData(id: number): Promise<boolean>;
  /** Every environment with a directory here, by id. */
  list(): Promise<{ id: number; identity: LabelIdentity }[]>;
}

const safeName = (p: string) => p.replace(/^\/+/, '').replace(/\.\.(\/|$)/g, '_$1');

export function createEnvDirs(options: { stateDir: string; user: RuntimeUser | null; log: Logger }): EnvDirs & { init(): Promise<void> } {
  const { user, log } = options;
  const envsDir = path.join(options.stateDir, 'envs');
  const envDir = (id: number) => path.join(envsDir, String(id));
  const dataDir = (id: number) => path.join(envDir(id), DATA_DIR);

  /** Wharf's, readable or passable by the runtime group as `mode` says. */
  const wharfs = async (p: string, mode: number) => {
    if (user) await chown(p, 0, user.gid);
    await chmod(p, mode);
  };
  /** The runtime user's alone. */
  const runtimes = async (p: string, mode: number) => {
    if (user) await chown(p, user.uid, user.gid);
    await chmod(p, mode);
  };

  const chownTree = async (dir: string, u: RuntimeUser): Promise<void> => {
    await chown(dir, u.uid, u.gid);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) await chownTree(p, u);
      else await chown(p, u.uid, u.gid).catch(() => undefined);
    }
  };

  return {
    envsDir,
    envDir,
    dataDir,
    async init() {
      await mkdir(options.stateDir, { recursive: true });
      await chmod(options.stateDir, 0o711);
      await mkdir(envsDir, { recursive: true });
      await chmod(envsDir, 0o711);
    },
    async prepareEnv(id, identity) {
      const dir = envDir(id);
      const wanted = JSON.stringify({ tenantId: identity.tenantId, repositoryId: identity.repositoryId, app: identity.app, name: identity.name });
      const found = await readFile(path.join(dir, IDENTITY_FILE), 'utf8').catch(() => undefined);
      if (found !== undefined && found !== wanted) {
        // Environment ids are reused by a new database: never hand one environment's data to another.
        log.warn({ envId: id, found, wanted }, 'removing an environment directory left by another environment with this id');
        await rm(dir, { recursive: true, force: true });
      }
      await mkdir(dir, { recursive: true });
      await wharfs(dir, 0o710);
      if (found !== wanted) await writeFile(path.join(dir, IDENTITY_FILE), wanted, { mode: 0o600 });
      const data = dataDir(id);
      const existing = await lstat(data).catch(() => undefined);
      if (existing && !existing.isDirectory()) await rm(data, { force: true });
      await mkdir(data, { recursive: true });
      // The data of a runtime user that changed (WHARF_RUNTIME_USER) goes to the new one.
      if (user && existing?.isDirectory() && existing.uid !== user.uid) await chownTree(data, user);
      await runtimes(data, 0o700);
    },
    async prepareInstance(id, instanceId, files) {
      const workDir = path.join(envDir(id), instanceId);
      const configDir = path.join(workDir, 'config');
      await mkdir(configDir, { recursive: true });
      await wharfs(workDir, 0o710);
      await wharfs(configDir, 0o750);
      const configs: string[] = [];
      for (const f of files) {
        const file = path.join(configDir, safeName(f.path));
        for (let d = path.dirname(file); d.startsWith(`${configDir}${path.sep}`); d = path.dirname(d)) {
          await mkdir(d, { recursive: true });
          await wharfs(d, 0o750);
        }
        await writeFile(file, f.content, { flag: 'wx' });
        await wharfs(file, 0o640);
        configs.push(file);
      }
      return { workDir, configDir, configs };
    },
    async hasData(id) {
      return (await readdir(dataDir(id)).catch(() => [])).length > 0;
    },
    async list() {
      const out: { id: number; identity: LabelIdentity }[] = [];
      for (const name of await readdir(envsDir).catch(() => [] as string[])) {
        const id = Number(name);
        const text = Number.isInteger(id) ? await readFile(path.join(envDir(id), IDENTITY_FILE), 'utf8').catch(() => undefined) : undefined;
        if (text !== undefined) out.push({ id, identity: JSON.parse(text) as LabelIdentity });
      }
      return out.sort((a, b) => a.id - b.id);
    },
  };
}
