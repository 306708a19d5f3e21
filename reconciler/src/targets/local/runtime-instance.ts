/**
 * One running runtime of one environment at one digest: its work dir (config files, data dir, stdout/stderr
 * files, instance.json), its process group, its log tail and its health.
 */
import { spawn } from 'node:child_process';
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowAppSpec } from '@wharf/contracts';
import { RUNTIME_HEALTH_PATH } from '@wharf/contracts/runtime-protocol';
import type { LogRing } from './log-ring.js';
import { type FileTail, tailFile } from './file-tail.js';
import { groupAlive, killTree, pidAlive } from './process-tree.js';
import { createUpstream, type Upstream } from './router.js';

export interface InstanceRecord {
  envId: number;
  tenantId: number;
  app: string;
  name: string;
  digest: string;
  generation: number;
  pid: number;
  port: number;
  workDir: string;
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
  envId: number;
  tenantId: number;
  app: string;
  name: string;
  generation: number;
  digest: string;
  spec: WorkflowAppSpec;
  workDir: string;
  port: number;
  command: string[];
  env: Record<string, string>;
  ring: LogRing;
}

const safeName = (p: string) => p.replace(/^\/+/, '').replace(/\.\.(\/|$)/g, '_$1');

export async function startInstance(o: StartInstanceOptions): Promise<RuntimeInstance> {
  const configDir = path.join(o.workDir, 'config');
  const dataDir = path.join(o.workDir, 'data');
  await mkdir(configDir, { recursive: true });
  await mkdir(dataDir, { recursive: true });
  const configs: string[] = [];
  for (const f of o.spec.files) {
    const file = path.join(configDir, safeName(f.path));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, f.content);
    configs.push(file);
  }
  const stdoutFile = path.join(o.workDir, 'stdout.log');
  const stderrFile = path.join(o.workDir, 'stderr.log');
  const out = await open(stdoutFile, 'a');
  const err = await open(stderrFile, 'a');
  const [bin, ...baseArgs] = o.command;
  if (!bin) throw new Error('empty runtime command');
  const args = [...baseArgs, ...configs.flatMap((c) => ['--config', c]), '--port', String(o.port), '--data-dir', dataDir, '--digest', o.digest];
  const child = spawn(bin, args, { cwd: o.workDir, env: o.env, detached: true, stdio: ['ignore', out.fd, err.fd] });
  const spawned = new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid ?? 0));
    child.once('error', reject);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await out.close();
  await err.close();
  const pid = await spawned;
  child.unref();
  o.ring.push('system', `started pid ${pid} port ${o.port} digest ${o.digest}`);
  const record: InstanceRecord = {
    envId: o.envId,
    tenantId: o.tenantId,
    app: o.app,
    name: o.name,
    digest: o.digest,
    generation: o.generation,
    pid,
    port: o.port,
    workDir: o.workDir,
    startedAt: new Date().toISOString(),
  };
  await writeFile(path.join(o.workDir, 'instance.json'), JSON.stringify(record, null, 2));
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

/** GET RUNTIME_HEALTH_PATH; the digest the runtime reports, or an error message. */
export async function probeHealth(port: number, signal?: AbortSignal, timeoutMs = 1_000): Promise<{ ok: boolean; digest: string | null; message: string }> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(`http://127.0.0.1:${port}${RUNTIME_HEALTH_PATH}`, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    const body = (await res.json().catch(() => ({}))) as { digest?: unknown; status?: unknown };
    const digest = typeof body.digest === 'string' ? body.digest : null;
    return { ok: res.ok, digest, message: `healthz ${res.status}${typeof body.status === 'string' ? ` ${body.status}` : ''}` };
  } catch (err) {
    return { ok: false, digest: null, message: (err as Error).message };
  }
}
