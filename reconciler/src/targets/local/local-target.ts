/**
 * The local target: every environment runs the runtime as a child process on this machine, behind the local
 * router. A new version starts beside the old one; the router switches once /healthz reports the new digest; the
 * old one drains and stops. A crashed runtime restarts with backoff. Teardown kills the whole process tree. After a
 * restart of Wharf, runtimes left by the previous run are adopted (still healthy, recorded as current) or stopped.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type ApplyResult,
  backoffDelay,
  type BackoffPolicy,
  type DeleteResult,
  type LogLine,
  type LogOptions,
  nothingRunning,
  type Observation,
  REASONS,
  type Target,
  type TargetEnvironment,
  type TargetRef,
} from '@wharf/contracts';
import { freePort } from '@wharf/store';
import type { Logger } from 'pino';
import { GenericError, StalledError } from '../../errors.js';
import { createLogRing, type LogRing } from './log-ring.js';
import { createRouter } from './router.js';
import { CURRENT_FILE, DESIRED_FILE, recoverLeftRuntimes } from './recover-left-runtimes.js';
import { adoptInstance, probeHealth, type RuntimeInstance, startInstance } from './runtime-instance.js';

export interface LocalTargetOptions {
  /** Work dirs, logs and the record of running runtimes (e.g. `.wharf/local`). */
  stateDir: string;
  /** argv prefix of the runtime; `--config F… --port N --data-dir D --digest X` are appended. Default: the reference runtime. */
  runtimeCommand?: string[];
  /** 0 (default) picks a free port. */
  routerPort?: number;
  routerHost?: string;
  log: Logger;
  /** Environment variables every runtime gets (PATH, …) before the WorkflowApp's own. Default: only PATH. */
  baseEnv?: Record<string, string>;
  /** Resolves `secretRef` env vars; an unresolved one stalls the environment. */
  resolveSecret?(ref: { name: string; key: string }): string | undefined;
  /** How long a new runtime has to report the expected digest. Default 30 s. */
  healthTimeoutMs?: number;
  /** How long the old runtime may finish requests after a switch. Default 10 s. */
  drainTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace. Default 3 s. */
  stopGraceMs?: number;
  /** Lines kept per environment for `wharf logs`. Default 1000. */
  logLines?: number;
  /** Crash restarts back off from this (doubling, ±20%) to `restartMaxMs`. Defaults 1 s and 30 s. */
  restartBaseMs?: number;
  restartMaxMs?: number;
  /** Leave runtimes running on close() so the next start adopts them. Default false: close stops them. */
  keepRuntimesOnClose?: boolean;
}

export interface LocalTarget extends Target {
  recover(): Promise<{ adopted: number[] }>;
  logs(ref: TargetRef, options?: LogOptions): AsyncIterable<LogLine>;
  readonly router: { url: string; port: number; urlFor(app: string, env: string): string; close(): Promise<void> };
  /** The pid of an environment's current runtime (tests, `wharf status`). */
  pidOf(id: number): number | undefined;
}

interface EnvState {
  ref: TargetRef;
  ring: LogRing;
  current: RuntimeInstance | null;
  desired: TargetEnvironment | null;
  draining: Set<Promise<void>>;
  restartTimer: NodeJS.Timeout | undefined;
  crashes: number;
  lock: Promise<unknown>;
}


async function defaultRuntimeCommand(): Promise<string[]> {
  const specifier = '@wharf/runtime';
  const mod = (await import(specifier).catch(() => ({}))) as { RUNTIME_BIN?: string; runtimeLaunchCommand?: () => Promise<string[]> };
  // The bundled runtime starts with plain node, a second faster than through the TypeScript loader.
  if (mod.runtimeLaunchCommand) return mod.runtimeLaunchCommand();
  if (!mod.RUNTIME_BIN) {
    throw new StalledError('no runtime command configured and @wharf/runtime does not export RUNTIME_BIN', { reason: REASONS.ApplyFailed });
  }
  return [process.execPath, '--import', import.meta.resolve('tsx'), mod.RUNTIME_BIN];
}

export async function createLocalTarget(options: LocalTargetOptions): Promise<LocalTarget> {
  const log = options.log.child({ target: 'local' });
  const envsDir = path.join(options.stateDir, 'envs');
  await mkdir(envsDir, { recursive: true });
  const healthTimeoutMs = options.healthTimeoutMs ?? 30_000;
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  const graceMs = options.stopGraceMs ?? 3_000;
  const logLines = options.logLines ?? 1_000;
  const restartPolicy: BackoffPolicy = { baseMs: options.restartBaseMs ?? 1_000, maxMs: options.restartMaxMs ?? 30_000, jitter: 'proportional' };
  const states = new Map<number, EnvState>();
  let command: string[] | undefined = options.runtimeCommand;
  let closed = false;

  const router = await createRouter({
    port: options.routerPort ?? 0,
    host: options.routerHost,
    log,
    logs: (id, logOptions) => states.get(id)?.ring.stream(logOptions),
  });

  const envDir = (id: number) => path.join(envsDir, String(id));

  const stateFor = (ref: TargetRef): EnvState => {
    let s = states.get(ref.id);
    if (!s) {
      s = { ref, ring: createLogRing(logLines), current: null, desired: null, draining: new Set(), restartTimer: undefined, crashes: 0, lock: Promise.resolve() };
      states.set(ref.id, s);
    }
    return s;
  };

  /** One operation at a time per environment (apply, crash restart, delete). */
  const locked = <T>(s: EnvState, fn: () => Promise<T>): Promise<T> => {
    const run = s.lock.then(fn, fn);
    s.lock = run.catch(() => undefined);
    return run;
  };

  const runtimeEnv = (env: TargetEnvironment, port: number): Record<string, string> => {
    const out: Record<string, string> = { PATH: '/usr/local/bin:/usr/bin:/bin', ...options.baseEnv };
    for (const v of env.spec.env ?? []) {
      if (v.value !== undefined) out[v.name] = v.value;
      else if (v.secretRef) {
        const value = options.resolveSecret?.(v.secretRef);
        if (value === undefined) {
          throw new StalledError(`secret ${v.secretRef.name}/${v.secretRef.key} for ${v.name} is not available`, { reason: REASONS.SecretMissing });
        }
        out[v.name] = value;
      }
    }
    Object.assign(out, { WHARF_APP: env.app, WHARF_ENVIRONMENT: env.name, WHARF_DIGEST: env.digest, PORT: String(port) });
    return out;
  };

  const unhealthyMessage = (s: EnvState, env: TargetEnvironment, why: string) => {
    const tail = s.ring
      .last(8)
      .filter((l) => l.stream !== 'system')
      .map((l) => l.line)
      .join(' | ');
    const serving = s.current ? `; previous version ${s.current.record.digest.slice(0, 19)} still serving` : '';
    return `runtime for ${env.digest.slice(0, 19)} ${why}${serving}${tail ? `; last output: ${tail}` : ''}`;
  };

  /** Polls /healthz until it reports `digest`; throws RuntimeUnhealthy when the process exits or time runs out. */
  const waitHealthy = async (s: EnvState, instance: RuntimeInstance, env: TargetEnvironment, signal: AbortSignal) => {
    const deadline = Date.now() + healthTimeoutMs;
    let last = 'no answer';
    let delay = 25;
    while (Date.now() < deadline) {
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      if (instance.hasExited()) {
        const code = await instance.exited;
        throw new GenericError(unhealthyMessage(s, env, `exited with code ${code} before it became healthy`), { reason: REASONS.RuntimeUnhealthy });
      }
      const probe = await probeHealth(instance.record.port, signal, 1_000);
      if (probe.ok && probe.digest === env.digest) return;
      last = probe.ok ? `reports digest ${probe.digest}` : probe.message;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 50);
    }
    throw new GenericError(unhealthyMessage(s, env, `did not become healthy within ${Math.round(healthTimeoutMs / 1000)}s (${last})`), {
      reason: REASONS.RuntimeUnhealthy,
    });
  };

  const drainAndStop = (s: EnvState, old: RuntimeInstance) => {
    old.stopping = true;
    const done = (async () => {
      const deadline = Date.now() + drainTimeoutMs;
      while (old.upstream.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await old.stop(graceMs);
      s.ring.push('system', `stopped pid ${old.record.pid} (digest ${old.record.digest})`);
      await rm(old.record.workDir, { recursive: true, force: true });
    })().catch((err) => log.warn({ err, envId: s.ref.id }, 'stopping the old runtime failed'));
    s.draining.add(done);
    void done.finally(() => s.draining.delete(done));
  };

  const watchCrash = (s: EnvState, instance: RuntimeInstance) => {
    const started = Date.now();
    void instance.exited.then((code) => {
      if (closed || instance.stopping || s.current !== instance) return;
      if (Date.now() - started > 30_000) s.crashes = 0;
      s.crashes++;
      const delay = backoffDelay(s.crashes, Math.random, restartPolicy);
      s.ring.push('system', `runtime exited with code ${code}; restarting in ${delay} ms (crash ${s.crashes})`);
      log.warn({ envId: s.ref.id, code, delay, crashes: s.crashes }, 'runtime crashed; restarting');
      router.set({ envId: s.ref.id, app: s.ref.app, env: s.ref.name, upstream: null, unavailable: 'runtime crashed; restarting' });
      s.restartTimer = setTimeout(() => {
        s.restartTimer = undefined;
        const desired = s.desired;
        if (!desired || closed) return;
        void locked(s, () => rollout(s, desired, AbortSignal.timeout(healthTimeoutMs + 5_000))).catch((err) => {
          log.warn({ err, envId: s.ref.id }, 'crash restart failed');
          if (s.current === instance && instance.hasExited()) watchCrashAgain(s, instance);
        });
      }, delay);
    });
  };
  // A failed restart counts as another crash of the same instance.
  const watchCrashAgain = (s: EnvState, instance: RuntimeInstance) => {
    instance.stopping = false;
    watchCrash(s, instance);
  };

  /** Start new beside old, switch when healthy, drain and stop old. */
  const rollout = async (s: EnvState, env: TargetEnvironment, signal: AbortSignal): Promise<ApplyResult> => {
    if (s.restartTimer) clearTimeout(s.restartTimer);
    s.restartTimer = undefined;
    command ??= await defaultRuntimeCommand();
    const port = await freePort();
    const instanceId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const workDir = path.join(envDir(env.id), instanceId);
    const instance = await startInstance({
      envId: env.id,
      tenantId: env.tenantId,
      app: env.app,
      name: env.name,
      generation: env.generation,
      digest: env.digest,
      spec: env.spec,
      workDir,
      port,
      command,
      env: runtimeEnv(env, port),
      ring: s.ring,
    });
    await writeFile(path.join(workDir, DESIRED_FILE), JSON.stringify(env));
    try {
      await waitHealthy(s, instance, env, signal);
    } catch (err) {
      await instance.stop(graceMs);
      s.ring.push('system', `gave up on pid ${instance.record.pid}: ${(err as Error).message.split(';')[0]}`);
      await rm(workDir, { recursive: true, force: true });
      throw err;
    }
    const previous = s.current;
    s.current = instance;
    s.desired = env;
    router.set({ envId: env.id, app: env.app, env: env.name, upstream: instance.upstream, unavailable: '' });
    await writeFile(path.join(envDir(env.id), CURRENT_FILE), JSON.stringify({ instanceId }));
    s.ring.push('system', `serving digest ${env.digest} from pid ${instance.record.pid}`);
    watchCrash(s, instance);
    if (previous) drainAndStop(s, previous);
    return { status: 'ready', url: router.urlFor(env.app, env.name) };
  };

  const recover = async (): Promise<{ adopted: number[] }> => ({
    adopted: await recoverLeftRuntimes({
      envsDir,
      graceMs,
      log,
      adopt: (record, desired) => {
        const s = stateFor({ id: record.envId, tenantId: record.tenantId, app: record.app, name: record.name, qualifier: null });
        const instance = adoptInstance(record, s.ring);
        s.current = instance;
        s.desired = desired;
        router.set({ envId: record.envId, app: record.app, env: record.name, upstream: instance.upstream, unavailable: '' });
        watchCrash(s, instance);
      },
    }),
  });

  const target: LocalTarget = {
    name: 'local',
    capabilities: { rollout: 'swap', applyWaitsForHealthy: true, urls: true },
    router: { url: router.url, port: router.port, urlFor: router.urlFor, close: () => router.close() },
    pidOf: (id) => states.get(id)?.current?.record.pid,

    apply(env, ctx) {
      const s = stateFor(env);
      return locked(s, async () => {
        const cur = s.current;
        if (ctx.action !== 'restart' && cur && !cur.hasExited() && cur.record.digest === env.digest) {
          const probe = await probeHealth(cur.record.port, ctx.signal);
          if (probe.ok && probe.digest === env.digest) {
            s.desired = env;
            return { status: 'ready', url: router.urlFor(env.app, env.name) };
          }
        }
        return rollout(s, env, ctx.signal);
      });
    },

    async observe(ref): Promise<Observation> {
      const s = states.get(ref.id);
      const cur = s?.current;
      if (!s || !cur) return nothingRunning();
      const seen = (digest: string, healthy: boolean, message?: string): Observation => ({
        exists: true,
        digest,
        healthy,
        url: router.urlFor(ref.app, ref.name),
        ...(message ? { message } : {}),
        observedGeneration: cur.record.generation,
        conditions: [],
        instances: [
          {
            name: `pid ${cur.record.pid}`,
            digest,
            healthy,
            host: 'localhost',
            startedAt: cur.record.startedAt,
            restarts: s.crashes,
            ...(message ? { message } : {}),
          },
        ],
      });
      if (cur.hasExited()) return seen(cur.record.digest, false, 'runtime exited; restart pending');
      const probe = await probeHealth(cur.record.port);
      return seen(probe.digest ?? cur.record.digest, probe.ok, probe.ok ? undefined : probe.message);
    },

    delete(ref): Promise<DeleteResult> {
      const s = stateFor(ref);
      return locked(s, async () => {
        if (s.restartTimer) clearTimeout(s.restartTimer);
        router.remove(ref.app, ref.name);
        const cur = s.current;
        s.current = null;
        s.desired = null;
        if (cur) await cur.stop(graceMs);
        await Promise.all([...s.draining]);
        await rm(envDir(ref.id), { recursive: true, force: true });
        states.delete(ref.id);
        return { status: 'deleted' };
      });
    },

    recover,

    logs(ref, logOptions) {
      return states.get(ref.id)?.ring.stream(logOptions) ?? createLogRing(0).stream();
    },

    async close() {
      closed = true;
      for (const s of states.values()) if (s.restartTimer) clearTimeout(s.restartTimer);
      await Promise.all([...states.values()].flatMap((s) => [...s.draining]));
      if (!options.keepRuntimesOnClose) {
        await Promise.all([...states.values()].map((s) => s.current?.stop(graceMs)));
      }
      await router.close();
    },
  };
  return target;
}
