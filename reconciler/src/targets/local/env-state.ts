/**
 * What the local target knows of each environment while it runs: its identity and router names, its log, its
 * current runtime and desired state, and a lock so that one operation at a time touches it. Friendly names
 * (`<env>--<app>`) of the local owner are claimed here: the first environment to claim one keeps it while it exists.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TargetEnvironment, TargetRef } from '@wharf/contracts';
import type { EnvDirs } from './env-dirs.js';
import { environmentLabel, friendlyLabel } from './host-label.js';
import { createLogRing, type LogRing } from './log-ring.js';
import type { RuntimeInstance } from './runtime-instance.js';

export interface EnvState {
  ref: TargetRef;
  label: string;
  friendly: { label: string; path: string } | null;
  ring: LogRing;
  current: RuntimeInstance | null;
  desired: TargetEnvironment | null;
  draining: Set<Promise<void>>;
  restartTimer: NodeJS.Timeout | undefined;
  crashes: number;
  lock: Promise<unknown>;
  /** A start is under way (counts against the repository's cap before the runtime exists). */
  starting: boolean;
}

/** The key of the router labels' HMAC, kept in the state dir so labels survive restarts. */
async function labelKey(stateDir: string): Promise<Buffer> {
  const file = path.join(stateDir, 'label.key');
  const kept = await readFile(file).catch(() => undefined);
  if (kept && kept.length >= 32) return kept;
  const key = randomBytes(32);
  await writeFile(file, key, { mode: 0o600 });
  return key;
}

export interface EnvStates {
  get(id: number): EnvState | undefined;
  /** The state of `ref`'s environment, created (with its label, and a friendly name when it may have one) if new. */
  of(ref: TargetRef): EnvState;
  forget(s: EnvState): void;
  all(): IterableIterator<EnvState>;
  /** Other environments of `ref`'s repository that run or are starting: what counts against its cap. */
  runningInRepository(ref: TargetRef): number;
}

export async function createEnvStates(options: { stateDir: string; dirs: EnvDirs; friendlyTenantId?: number; logLines: number }): Promise<EnvStates> {
  const key = await labelKey(options.stateDir);
  const states = new Map<number, EnvState>();
  // After a restart the environments that have a directory here claim first, the oldest (lowest id) first.
  const friendlyOwners = new Map<string, number>();
  for (const { id, identity } of await options.dirs.list()) {
    const fl = identity.tenantId === options.friendlyTenantId ? friendlyLabel(identity.app, identity.name) : null;
    if (fl && !friendlyOwners.has(fl)) friendlyOwners.set(fl, id);
  }
  return {
    get: (id) => states.get(id),
    of(ref) {
      let s = states.get(ref.id);
      if (!s) {
        const fl = ref.tenantId === options.friendlyTenantId ? friendlyLabel(ref.app, ref.name) : null;
        const friendly = fl && (friendlyOwners.get(fl) ?? ref.id) === ref.id ? { label: fl, path: `${ref.app}/${ref.name}` } : null;
        if (friendly) friendlyOwners.set(friendly.label, ref.id);
        s = {
          ref,
          label: environmentLabel(ref, key),
          friendly,
          ring: createLogRing(options.logLines),
          current: null,
          desired: null,
          draining: new Set(),
          restartTimer: undefined,
          crashes: 0,
          lock: Promise.resolve(),
          starting: false,
        };
        states.set(ref.id, s);
      }
      return s;
    },
    forget(s) {
      if (s.friendly && friendlyOwners.get(s.friendly.label) === s.ref.id) friendlyOwners.delete(s.friendly.label);
      states.delete(s.ref.id);
    },
    all: () => states.values(),
    runningInRepository: (ref) =>
      [...states.values()].filter((o) => o.ref.id !== ref.id && o.ref.tenantId === ref.tenantId && o.ref.repositoryId === ref.repositoryId && (o.current || o.starting))
        .length,
  };
}

/** One operation at a time per environment (apply, crash restart, stop, delete). */
export function locked<T>(s: EnvState, fn: () => Promise<T>): Promise<T> {
  const run = s.lock.then(fn, fn);
  s.lock = run.catch(() => undefined);
  return run;
}
