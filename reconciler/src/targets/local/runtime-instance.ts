/**
 * One running runtime of one environment at one digest: its instance dir (config files, stdout/stderr files,
 * instance.json), the environment's stable data dir, its process group, its log tail and its health.
 */
import { readBodyAtMost } from '@wharf/contracts/bounded-body';
import { spawn } from 'node:child_process';
import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type EnvironmentKind, sumRuntimeRequests } from '@wharf/contracts';
import { RUNTIME_HEALTH_PATH, RUNTIME_RESERVED_PREFIX } from '@wharf/contracts/runtime-protocol';
import type { LogRing } from './log-ring.js';
import { type FileTail, tailFile } from './file-tail.js';
import { groupAlive, killTree, pidAlive } from './process-tree.js';
import { createUpstream, type Upstream } from './router.js';
import type { RuntimeUser } from './runtime-user.js';

export const INSTANCE_FILE = 'instance.json';

export interface InstanceRecord {
  envId: number;
  tenantId: number;
  repositoryId: number;
  app: string;
  name: string;
  kind: EnvironmentKind;
  digest: string;
  generation: number;
  pid: number;
  port: number;
  workDir: string;
  dataDir: string;
  startedAt: string;
}

export interface RuntimeInstance {
  readonly record: InstanceRecord;
  readonly upstream: Upstream;
  /** Resolves with the exit code (null when killed by a signal) when the process is gone. */
  readonly exited: Promise<number | null>;
  readonly hasExited: () => boolean;
  /** Set before we stop it, so the exit is not taken for a crash. */
  stopping: boolean;
  stop(graceMs: number): Promise<void>;
}

export interface StartInstanceOptions {
  record: Omit<InstanceRecord, 'pid' | 'startedAt'>;
  /** argv: the runtime command and its flags. */
  argv: string[];
  env: Record<string, string>;
  /** Run as this user (Wharf is root); null: as Wharf's user. */
  user: RuntimeUser | null;
  ring: LogRing;
}

export async function startInstance(o: StartInstanceOptions): Promise<RuntimeInstance> {
  const { workDir } = o.record;
  const stdoutFile = path.join(workDir, 'stdout.log');
  const stderrFile = path.join(workDir, 'stderr.log');
  // Wharf's files: the runtime writes them only through the descriptors it is handed.
  const out = await open(stdoutFile, 'a', 0o600);
  const err = await open(stderrFile, 'a', 0o600);
  const [bin, ...args] = o.argv;
  if (!bin) throw new Error('empty runtime command');
  const child = spawn(bin, args, {
    cwd: workDir,
    env: o.env,
    detached: true,
    stdio: ['ignore', out.fd, err.fd],
    ...(o.user ? { uid: o.user.uid, gid: o.user.gid } : {}),
  });
  const spawned = new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid ?? 0));
    child.once('error', reject);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await out.close();
  await err.close();
  const pid = await spawned;
  child.unref();
  o.ring.push('system', `started pid ${pid} port ${o.record.port} digest ${o.record.digest}`);
  const record: InstanceRecord = { ...o.record, pid, startedAt: new Date().toISOString() };
  await writeFile(path.join(workDir, INSTANCE_FILE), JSON.stringify(record, null, 2), { mode: 0o600 });
  return wrap(record, exited, o.ring, [stdoutFile, stderrFile]);
}

/** An instance left by a previous run whose process is still alive: followed by polling, since it is not our child. */
export function adoptInstance(record: InstanceRecord, ring: LogRing): RuntimeInstance {
  const exited = new Promise<number | null>((resolve) => {
    const timer = setInterval(() => {
      if (!pidAlive(record.pid)) {
        clearInterval(timer);
        resolve(null);
      }
    }, 500);
    timer.unref();
  });
  ring.push('system', `adopted pid ${record.pid} port ${record.port} digest ${record.digest} after a restart`);
  return wrap(record, exited, ring, [path.join(record.workDir, 'stdout.log'), path.join(record.workDir, 'stderr.log')]);
}

function wrap(record: InstanceRecord, exitedRaw: Promise<number | null>, ring: LogRing, files: [string, string]): RuntimeInstance {
  let gone = false;
  const tails: FileTail[] = [
    tailFile(files[0], (l) => ring.push('stdout', l)),
    tailFile(files[1], (l) => ring.push('stderr', l)),
  ];
  const exited = exitedRaw.then(async (code) => {
    gone = true;
    await Promise.all(tails.map((t) => t.close()));
    return code;
  });
  const instance: RuntimeInstance = {
    record,
    upstream: createUpstream(record.port),
    exited,
    hasExited: () => gone,
    stopping: false,
    async stop(graceMs) {
      instance.stopping = true;
      instance.upstream.agent.destroy();
      await killTree(record.pid, graceMs);
      if (!groupAlive(record.pid)) gone = true;
      await Promise.race([exited, new Promise((r) => setTimeout(r, 1_000))]);
      await Promise.all(tails.map((t) => t.close()));
    },
  };
  return instance;
}

export interface HealthProbe {
  ok: boolean;
  digest: string | null;
  /** What the runtime says of its data dir (`stateful` on the health path); undefined when it does not say. */
  stateful: boolean | undefined;
  message: string;
}

/** GET RUNTIME_HEALTH_PATH; the digest the runtime reports, or an error message. */
export async function probeHealth(port: number, signal?: AbortSignal, timeoutMs = 1_000): Promise<HealthProbe> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(`http://127.0.0.1:${port}${RUNTIME_HEALTH_PATH}`, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    const body = parseHealth((await readBodyAtMost(res, 64 * 1024)) ?? '');
    const digest = typeof body.digest === 'string' ? body.digest : null;
    const stateful = typeof body.stateful === 'boolean' ? body.stateful : undefined;
    return { ok: res.ok, digest, stateful, message: `healthz ${res.status}${typeof body.status === 'string' ? ` ${body.status}` : ''}` };
  } catch (err) {
    return { ok: false, digest: null, stateful: undefined, message: (err as Error).message };
  }
}

/**
 * The requests a runtime answered for the app (its Prometheus counter at RUNTIME_RESERVED_PREFIX/metrics, Wharf's
 * own health checks left out), for usage metering; null when it cannot be read (the upstream engine has no such path).
 */
export async function probeRequests(port: number, signal?: AbortSignal, timeoutMs = 1_000): Promise<number | null> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(`http://127.0.0.1:${port}${RUNTIME_RESERVED_PREFIX}metrics`, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    return sumRuntimeRequests((await readBodyAtMost(res, 1024 * 1024)) ?? '', RUNTIME_RESERVED_PREFIX);
  } catch {
    return null;
  }
}


function parseHealth(text: string): { digest?: unknown; status?: unknown; stateful?: unknown } {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? v : {};
  } catch {
    return {};
  }
}
